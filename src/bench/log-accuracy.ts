/**
 * Grouping accuracy of template mining (the measure used by the log-parsing literature): a line
 * counts as correct only when the set of lines grouped with it is exactly the set of lines of
 * its true template. One wrong merge or split costs every line of both groups.
 */
export function groupingAccuracy(truth: readonly number[], predicted: readonly number[]): number {
  if (truth.length !== predicted.length) throw new Error(`truth has ${truth.length} lines, prediction ${predicted.length}`);
  if (truth.length === 0) return 1;
  const byTruth = new Map<number, number[]>();
  const byPred = new Map<number, number[]>();
  truth.forEach((t, i) => {
    let a = byTruth.get(t);
    if (!a) byTruth.set(t, (a = []));
    a.push(i);
    let b = byPred.get(predicted[i]!);
    if (!b) byPred.set(predicted[i]!, (b = []));
    b.push(i);
  });
  let correct = 0;
  for (const lines of byPred.values()) {
    const t = truth[lines[0]!]!;
    const want = byTruth.get(t)!;
    if (want.length === lines.length && lines.every((i) => truth[i] === t)) correct += lines.length;
  }
  return correct / truth.length;
}
