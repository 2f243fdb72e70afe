/**
 * Many keywords in one pass over a line (Aho-Corasick over ASCII, case-insensitive): one table
 * lookup per character, however many keywords, where a case-insensitive regex alternation of
 * the same words costs microseconds a line. A keyword written with a leading or trailing space
 * ("\broll", "lag\b" in regex terms) must sit at a word boundary there.
 */
const ALPHA = 128;

export class KeywordSet {
  private readonly next: Int32Array;
  /** Per state: index+1 of a keyword that ends here (following failure links), 0 for none. */
  private readonly out: Int32Array[];
  /** 1 where some keyword ends in that state: the only states the hot loop looks further at. */
  private readonly hit: Uint8Array;
  private readonly words: { len: number; before: boolean; after: boolean }[] = [];

  constructor(keywords: string[]) {
    const trie: number[][] = [new Array(ALPHA).fill(-1)];
    const ends: number[][] = [[]];
    keywords.forEach((raw, idx) => {
      const before = raw.startsWith(' ');
      const after = raw.endsWith(' ');
      const w = raw.trim().toLowerCase();
      this.words.push({ len: w.length, before, after });
      let s = 0;
      for (const ch of w) {
        const c = ch.charCodeAt(0) & 127;
        if (trie[s]![c] === -1) {
          trie[s]![c] = trie.length;
          trie.push(new Array(ALPHA).fill(-1));
          ends.push([]);
        }
        s = trie[s]![c]!;
      }
      ends[s]!.push(idx);
    });
    // Breadth-first failure links, folded into a complete transition table.
    const fail = new Array(trie.length).fill(0);
    const queue: number[] = [];
    for (let c = 0; c < ALPHA; c++) {
      const t = trie[0]![c]!;
      if (t === -1) trie[0]![c] = 0;
      else queue.push(t);
    }
    while (queue.length) {
      const s = queue.shift()!;
      ends[s] = [...ends[s]!, ...ends[fail[s]]!];
      for (let c = 0; c < ALPHA; c++) {
        const t = trie[s]![c]!;
        if (t === -1) trie[s]![c] = trie[fail[s]]![c]!;
        else {
          fail[t] = trie[fail[s]]![c]!;
          queue.push(t);
        }
      }
    }
    this.next = new Int32Array(trie.length * ALPHA);
    trie.forEach((row, s) => row.forEach((t, c) => (this.next[s * ALPHA + c] = t)));
    this.out = ends.map((e) => Int32Array.from(e));
    this.hit = Uint8Array.from(ends.map((e) => (e.length ? 1 : 0)));
  }

  /** Does any keyword occur in `text` (case-insensitive for ASCII letters)? */
  test(text: string, limit = text.length, from = 0): boolean {
    const next = this.next;
    const hit = this.hit;
    let s = 0;
    const n = limit < text.length ? limit : text.length;
    for (let i = from; i < n; i++) {
      let c = text.charCodeAt(i);
      if (c >= 128) c = 0;
      else if (c >= 65 && c <= 90) c |= 32;
      s = next[(s << 7) | c]!;
      if (hit[s] === 1 && this.confirm(text, i, s)) return true;
    }
    return false;
  }

  /** A keyword ends at i in state s: true unless its word-boundary conditions fail. */
  private confirm(text: string, i: number, s: number): boolean {
    const o = this.out[s]!;
    for (let k = 0; k < o.length; k++) {
      const w = this.words[o[k]!]!;
      if (w.before && i - w.len >= 0 && isWord(text.charCodeAt(i - w.len))) continue;
      if (w.after && i + 1 < text.length && isWord(text.charCodeAt(i + 1))) continue;
      return true;
    }
    return false;
  }
}

function isWord(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
