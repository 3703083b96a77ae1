// StoreAPI-side logic with no runtime dependency, reusable by the sidecar, store gateway and querier.
export { matchExternalLabels, extendLabels, externalLabelsWithout, dropLabelNames, mergeSortedStrings } from "./labels.ts";
export { PrefixReorderer } from "./reorder.ts";
export { RequestLimiter, chunkSampleCount } from "./limits.ts";
