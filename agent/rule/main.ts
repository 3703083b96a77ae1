// Placeholder until this component lands; --help lists it so the command set is visible.
export async function run(_argv: string[]): Promise<number> {
  console.error("component rule is not implemented yet (see README, compatibility table)");
  return 2;
}
