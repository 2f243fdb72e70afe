/**
 * Online log template mining in the spirit of Drain (He et al., ICWS 2017), written for
 * Bulkhead: a fixed-depth parse tree routes a message by its token count and its leading
 * constant tokens to a small list of templates; the message joins the most similar template
 * if the similarity passes a threshold, and the positions where they differ become wildcards
 * (this is how digit-free values - host names, user names - become variables). Masking of
 * obvious values happens before (tokens.ts), header removal before that (header.ts).
 *
 * Bounded: at most `maxTemplates` templates and `maxPerLeaf` per leaf; past that, messages of
 * a full leaf join their closest template whatever the similarity, so memory never grows with
 * the input, only the precision of the rarest shapes degrades.
 */
import { mineTokens, WILDCARD } from './tokens';

export interface Template {
  id: number;
  tokens: string[];
  count: number;
}

export interface MinerOptions {
  /** Leading tokens used to route (Drain's depth - 2). */
  depth?: number;
  /** Fraction of positions that must match exactly for a message to join a template. */
  threshold?: number;
  maxChildren?: number;
  maxPerLeaf?: number;
  maxTemplates?: number;
}

type Node = Map<string, Node | Template[]>;

/**
 * Only word-like tokens route (letters, '_', trailing punctuation): a token with digits, a path,
 * quotes or dashes may be a value the masks did not catch, and routing on it would split.
 */
function routesAsWildcard(t: string): boolean {
  if (t.length > 40) return true;
  let end = t.length;
  while (end > 0 && ':,;.!?)]'.includes(t[end - 1]!)) end--;
  if (end === 0) return false;
  for (let k = 0; k < end; k++) {
    const c = t.charCodeAt(k);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || (k === 0 && (c === 40 || c === 91 || c === 34)))) return true;
  }
  return false;
}

export class TemplateMiner {
  private readonly root = new Map<number, Node | Template[]>();
  readonly templates: Template[] = [];
  private readonly o: Required<MinerOptions>;

  constructor(opts: MinerOptions = {}) {
    this.o = { depth: 2, threshold: 0.5, maxChildren: 64, maxPerLeaf: 200, maxTemplates: 5000, ...opts };
  }

  /** Mines one message (already without its header); returns its template. */
  add(message: string): Template {
    return this.addTokens(mineTokens(message));
  }

  addTokens(tokens: string[]): Template {
    const leaf = this.leafFor(tokens);
    let best: Template | null = null;
    let bestSim = -1;
    let bestVars = -1;
    for (const t of leaf) {
      const [sim, vars] = similarity(t.tokens, tokens);
      if (sim > bestSim || (sim === bestSim && vars > bestVars)) {
        best = t;
        bestSim = sim;
        bestVars = vars;
      }
    }
    const full = leaf.length >= this.o.maxPerLeaf || this.templates.length >= this.o.maxTemplates;
    // Two plain words at one position ("refused" / "reset") are more likely two messages than a
    // value: online they stay apart; finalize() merges them once three or more variants show up.
    if (best && !full && bestSim >= this.o.threshold && wordsDiffer(best.tokens, tokens)) best = null;
    if (best && (bestSim >= this.o.threshold || full)) {
      merge(best, tokens);
      best.count++;
      return best;
    }
    if (!best && this.templates.length >= this.o.maxTemplates) {
      // No template in this leaf and no room: the overflow template of this token count.
      const t: Template = { id: -1, tokens: tokens.map(() => WILDCARD), count: 1 };
      return t;
    }
    const t: Template = { id: this.templates.length, tokens: [...tokens], count: 1 };
    this.templates.push(t);
    leaf.push(t);
    return t;
  }

  private readonly parent = new Map<number, number>();

  /** The id a template was merged into by finalize() (itself if never merged). */
  canonical(id: number): number {
    let r = id;
    for (let p = this.parent.get(r); p !== undefined && p !== r; p = this.parent.get(r)) r = p;
    return r;
  }

  /** Live templates (not merged into another). */
  live(): Template[] {
    return this.templates.filter((t) => this.canonical(t.id) === t.id);
  }

  /**
   * Second look, once all lines are in: templates of one length that differ at exactly one
   * position, in three or more variants (user names, service names, queue names at the head of
   * the message, where the tree routed them apart), are one template with a variable there.
   * Two variants alone ("opened" / "closed") stay apart: they are more likely two messages.
   */
  finalize(): void {
    const byLen = new Map<number, Template[]>();
    for (const t of this.live()) {
      let a = byLen.get(t.tokens.length);
      if (!a) byLen.set(t.tokens.length, (a = []));
      a.push(t);
    }
    for (const [len, group] of byLen) {
      if (group.length < 2 || len < 2) continue;
      // Templates with two word-valued positions merge one position per pass.
      for (let pass = 0; pass < 3; pass++) for (let p = 0; p < len; p++) {
        const buckets = new Map<string, Template[]>();
        for (const t of group) {
          if (this.canonical(t.id) !== t.id) continue;
          const key = t.tokens.map((x, i) => (i === p ? '' : x)).join('\u0001');
          let b = buckets.get(key);
          if (!b) buckets.set(key, (b = []));
          b.push(t);
        }
        for (const b of buckets.values()) {
          const variants = b.reduce((a, t) => a + (t.tokens[p] === WILDCARD ? 3 : 1), 0);
          if (b.length < 2 || variants < 3) continue;
          const head = b[0]!;
          head.tokens[p] = WILDCARD;
          for (const t of b.slice(1)) {
            this.parent.set(t.id, head.id);
            head.count += t.count;
            t.tokens[p] = WILDCARD;
          }
        }
      }
    }
  }

  private leafFor(tokens: string[]): Template[] {
    const n = tokens.length;
    const depth = Math.min(this.o.depth, n);
    if (depth === 0) {
      let l = this.root.get(0) as Template[] | undefined;
      if (!l) this.root.set(0, (l = []));
      return l;
    }
    let node = this.root.get(n) as Node | undefined;
    if (!node) this.root.set(n, (node = new Map()));
    for (let d = 0; d < depth; d++) {
      const tok = tokens[d]!;
      let key = routesAsWildcard(tok) ? WILDCARD : tok;
      if (!node.has(key) && key !== WILDCARD && node.size >= this.o.maxChildren) key = WILDCARD;
      const last = d === depth - 1;
      let next = node.get(key);
      if (!next) node.set(key, (next = last ? [] : new Map()));
      if (last) return next as Template[];
      node = next as Node;
    }
    throw new Error('unreachable');
  }
}

/** [exactly equal constant positions / length, wildcard positions of the template]. */
function similarity(tpl: string[], toks: string[]): [number, number] {
  let same = 0;
  let vars = 0;
  for (let i = 0; i < tpl.length; i++) {
    const a = tpl[i]!;
    if (a === WILDCARD) {
      vars++;
      same++;
    } else if (a === toks[i] || sameKey(a, toks[i]!)) same++;
  }
  return [same / Math.max(1, tpl.length), vars];
}

const isPlainWord = (t: string) => /^[A-Za-z]{2,}$/.test(t);

function wordsDiffer(tpl: string[], toks: string[]): boolean {
  for (let i = 0; i < tpl.length; i++) {
    const a = tpl[i]!;
    if (a !== toks[i] && isPlainWord(a) && isPlainWord(toks[i]!)) return true;
  }
  return false;
}

/** key=a and key=b: the same field with another value (keys identify, values vary). */
function sameKey(a: string, b: string): boolean {
  const ea = a.indexOf('=');
  return ea > 0 && b.length > ea && b[ea] === '=' && a.slice(0, ea) === b.slice(0, ea);
}

function merge(t: Template, toks: string[]): void {
  for (let i = 0; i < t.tokens.length; i++) {
    const a = t.tokens[i]!;
    const b = toks[i]!;
    if (a === b || a === WILDCARD) continue;
    t.tokens[i] = generalize(a, b);
  }
}

/** Two different tokens at one position: `key=<*>` stays keyed; otherwise a wildcard with shared wrapping punctuation. */
function generalize(a: string, b: string): string {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p] && !/[\w<]/.test(a[p]!)) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s] && !/[\w>]/.test(a[a.length - 1 - s]!)) s++;
  const ea = a.indexOf('=');
  if (ea > 0 && ea === b.indexOf('=') && a.slice(0, ea) === b.slice(0, ea)) return `${a.slice(0, ea + 1)}${WILDCARD}`;
  return `${a.slice(0, p)}${WILDCARD}${a.slice(a.length - s)}`;
}

export const templateText = (t: Template) => t.tokens.join(' ');
