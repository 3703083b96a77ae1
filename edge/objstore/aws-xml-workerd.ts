// Stand-in for "@aws-sdk/xml-builder" in Worker bundles (wrangler.toml: [alias] "@aws-sdk/xml-builder" =
// "<path to this file>"). The package's "browser" field swaps its XML parser for one built on DOMParser,
// which workerd does not have, so every S3 reply with an XML body (listings, multipart, errors) fails
// with "DOMParser is not defined". Its other build is plain JS; these relative paths reach it from
// outside the package, where the browser remapping does not apply.
// @ts-ignore: untyped deep import of the package's ESM build
export { XmlNode } from "../../node_modules/@aws-sdk/xml-builder/dist-es/XmlNode.js";
// @ts-ignore: as above
export { XmlText } from "../../node_modules/@aws-sdk/xml-builder/dist-es/XmlText.js";
// @ts-ignore: as above
export { parseXML } from "../../node_modules/@aws-sdk/xml-builder/dist-es/xml-parser.js";
