/**
 * Bisection for the fewest leading entries of a ranking to revert so that a candidate passes,
 * assuming passing is monotone in that count: `failing` is a count known to fail, `upper` one assumed
 * to pass, tried only when no count below it passed. Each probe is one `passes` call (one candidate
 * measured); `canProbe` says whether the evaluation budget allows another. Returns the smallest
 * passing count seen, or undefined when none passed.
 */
export async function bisectFewest(failing: number, upper: number, passes: (count: number) => Promise<boolean>, canProbe: () => boolean): Promise<number | undefined> {
  if (upper <= failing) return undefined;
  let low = failing;
  let high = upper;
  let found: number | undefined;
  while (high - low > 1 && canProbe()) {
    const middle = Math.floor((low + high) / 2);
    if (await passes(middle)) {
      high = middle;
      found = middle;
    } else low = middle;
  }
  if (found === undefined && high - low <= 1 && canProbe() && (await passes(upper))) found = upper;
  return found;
}
