/**
 * Reads V8 heap snapshots (`*.heapsnapshot`, e.g. from VANA_LOAD_HEAP_SNAPSHOTS, see
 * src/run/reporters/heapSnapshotReporter.ts) and says what holds memory. A development tool.
 *
 *   npx tsx scripts/heap-snapshot.ts <b.heapsnapshot>                  # by class, biggest holders
 *   npx tsx scripts/heap-snapshot.ts <a.heapsnapshot> <b.heapsnapshot>  # and what b holds that was allocated after a
 *
 * With two snapshots of one process (object ids are kept between snapshots of a process and grow
 * with allocation), the objects of b whose id is above a's highest id were allocated between the
 * two. When b is taken with no flow in flight (`end`), those are the residue of the flows that ran
 * in between; they are grouped by the oldest object that dominates them (what keeps them) and
 * printed with a retainer path. Retained sizes come from the dominator tree (weak edges ignored).
 *
 * Options: --top N (rows per table, default 25), --paths N (retainer paths per holder, default 2),
 * --inside N (for the N biggest holder groups, the classes of what they retain, default 0).
 * Snapshots of a few hundred MB need a bigger heap: NODE_OPTIONS=--max-old-space-size=8192.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  nodeCount: number;
  nodeFields: number;
  nodes: Uint32Array;
  edges: Uint32Array;
  edgeFields: number;
  firstEdge: Uint32Array;
  strings: string[];
  nodeTypes: string[];
  edgeTypes: string[];
  /** Field offsets. */
  f: { type: number; name: number; id: number; selfSize: number; edgeCount: number };
  e: { type: number; nameOrIndex: number; toNode: number };
  /** Highest id of a JS heap object. */
  maxId: number;
}

function parseNumbers(buf: Buffer, start: number, count: number): { values: Uint32Array; end: number } {
  const values = new Uint32Array(count);
  let i = start;
  let n = 0;
  while (buf[i] !== 0x5b) i++; // '['
  i++;
  let current = -1;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c >= 0x30 && c <= 0x39) current = current < 0 ? c - 0x30 : current * 10 + (c - 0x30);
    else {
      if (current >= 0) {
        values[n++] = current;
        current = -1;
      }
      if (c === 0x5d) break; // ']'
    }
  }
  if (n !== count) throw new Error(`Expected ${count} numbers, got ${n}`);
  return { values, end: i + 1 };
}

function readSnapshot(path: string): Snapshot {
  const buf = readFileSync(path);
  const nodesAt = buf.indexOf('"nodes":');
  const header = JSON.parse(`${buf.subarray(0, nodesAt).toString('utf8').replace(/,\s*$/, '')}}`) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] }; node_count: number; edge_count: number };
  };
  const { meta, node_count: nodeCount, edge_count: edgeCount } = header.snapshot;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;
  const { values: nodes, end } = parseNumbers(buf, nodesAt, nodeCount * nodeFields);
  const edgesAt = buf.indexOf('"edges":', end);
  const { values: edges } = parseNumbers(buf, edgesAt, edgeCount * edgeFields);
  const stringsAt = buf.indexOf('"strings":', end);
  const open = buf.indexOf('[', stringsAt);
  const close = buf.lastIndexOf(']');
  const strings = JSON.parse(buf.subarray(open, close + 1).toString('utf8')) as string[];
  const f = {
    type: meta.node_fields.indexOf('type'),
    name: meta.node_fields.indexOf('name'),
    id: meta.node_fields.indexOf('id'),
    selfSize: meta.node_fields.indexOf('self_size'),
    edgeCount: meta.node_fields.indexOf('edge_count'),
  };
  const e = { type: meta.edge_fields.indexOf('type'), nameOrIndex: meta.edge_fields.indexOf('name_or_index'), toNode: meta.edge_fields.indexOf('to_node') };
  const firstEdge = new Uint32Array(nodeCount + 1);
  let maxId = 0;
  for (let i = 0; i < nodeCount; i++) {
    firstEdge[i + 1] = firstEdge[i]! + nodes[i * nodeFields + f.edgeCount]! * edgeFields;
    // JS heap objects have odd ids, given in allocation order; embedder (C++) objects' ids are even and come from addresses.
    const id = nodes[i * nodeFields + f.id]!;
    if (id % 2 === 1) maxId = Math.max(maxId, id);
  }
  return { nodeCount, nodeFields, nodes, edges, edgeFields, firstEdge, strings, nodeTypes: meta.node_types[0], edgeTypes: meta.edge_types[0], f, e, maxId };
}

const typeOf = (s: Snapshot, i: number): string => s.nodeTypes[s.nodes[i * s.nodeFields + s.f.type]!]!;
const nameOf = (s: Snapshot, i: number): string => s.strings[s.nodes[i * s.nodeFields + s.f.name]!]!;
const idOf = (s: Snapshot, i: number): number => s.nodes[i * s.nodeFields + s.f.id]!;
const sizeOf = (s: Snapshot, i: number): number => s.nodes[i * s.nodeFields + s.f.selfSize]!;

/** Chrome DevTools' grouping, a little finer: closures by function, system objects by kind. */
function classOf(s: Snapshot, i: number): string {
  const type = typeOf(s, i);
  const name = nameOf(s, i);
  switch (type) {
    case 'object':
    case 'native':
      return name.length > 60 ? `${name.slice(0, 57)}...` : name;
    case 'closure':
      return `${name || '(anonymous)'}()`;
    case 'hidden':
    case 'array':
    case 'object shape':
      return `(${type}) ${name.replace(/\s+/g, ' ').slice(0, 50)}`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    default:
      return `(${type})`;
  }
}

function edgeLabel(s: Snapshot, edge: number): string {
  const type = s.edgeTypes[s.edges[edge + s.e.type]!]!;
  const raw = s.edges[edge + s.e.nameOrIndex]!;
  if (type === 'element' || type === 'hidden') return `[${raw}]`;
  const name = s.strings[raw] ?? String(raw);
  return type === 'context' ? `<ctx ${name}>` : type === 'internal' ? `<${name}>` : `.${name.slice(0, 40)}`;
}

interface Analysis {
  /** Reachable nodes, each after its dominator. */
  rpo: Int32Array;
  idom: Int32Array;
  retained: Float64Array;
  bfsParentEdge: Int32Array;
  bfsParent: Int32Array;
}

/** Dominator tree (Cooper, Harvey, Kennedy) and retained sizes, from node 0 (the root), weak edges ignored. */
function analyse(s: Snapshot): Analysis {
  const n = s.nodeCount;
  const weak = s.edgeTypes.indexOf('weak');
  const toOrdinal = (edge: number): number => s.edges[edge + s.e.toNode]! / s.nodeFields;
  // DFS post-order from the root.
  const order = new Int32Array(n).fill(-1); // post-order number
  const byOrder = new Int32Array(n);
  const stackNode = new Int32Array(n);
  const stackEdge = new Uint32Array(n);
  const visited = new Uint8Array(n);
  let post = 0;
  let sp = 0;
  stackNode[0] = 0;
  stackEdge[0] = s.firstEdge[0]!;
  visited[0] = 1;
  sp = 1;
  while (sp > 0) {
    const node = stackNode[sp - 1]!;
    const edge = stackEdge[sp - 1]!;
    if (edge < s.firstEdge[node + 1]!) {
      stackEdge[sp - 1] = edge + s.edgeFields;
      if (s.edges[edge + s.e.type] === weak) continue;
      const to = toOrdinal(edge);
      if (visited[to]) continue;
      visited[to] = 1;
      stackNode[sp] = to;
      stackEdge[sp] = s.firstEdge[to]!;
      sp++;
    } else {
      sp--;
      order[node] = post;
      byOrder[post] = node;
      post++;
    }
  }
  // Predecessors (reachable ones only).
  const predCount = new Uint32Array(n + 1);
  for (let node = 0; node < n; node++) {
    if (!visited[node]) continue;
    for (let edge = s.firstEdge[node]!; edge < s.firstEdge[node + 1]!; edge += s.edgeFields) {
      if (s.edges[edge + s.e.type] === weak) continue;
      predCount[toOrdinal(edge) + 1]!++;
    }
  }
  for (let i = 0; i < n; i++) predCount[i + 1]! += predCount[i]!;
  const preds = new Int32Array(predCount[n]!);
  const fill = predCount.slice(0, n);
  for (let node = 0; node < n; node++) {
    if (!visited[node]) continue;
    for (let edge = s.firstEdge[node]!; edge < s.firstEdge[node + 1]!; edge += s.edgeFields) {
      if (s.edges[edge + s.e.type] === weak) continue;
      preds[fill[toOrdinal(edge)]!++] = node;
    }
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = post - 2; k >= 0; k--) {
      const node = byOrder[k]!;
      let next = -1;
      for (let p = predCount[node]!; p < predCount[node + 1]!; p++) {
        const pred = preds[p]!;
        if (idom[pred] === -1) continue;
        next = next === -1 ? pred : intersect(pred, next);
      }
      if (next !== -1 && idom[node] !== next) {
        idom[node] = next;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(n);
  for (let k = 0; k < post; k++) {
    const node = byOrder[k]!;
    retained[node]! += sizeOf(s, node);
    if (node !== 0) retained[idom[node]!]! += retained[node]!;
  }
  // Shortest retainer path from the root, for printing.
  const bfsParent = new Int32Array(n).fill(-1);
  const bfsParentEdge = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  bfsParent[0] = 0;
  while (head < tail) {
    const node = queue[head++]!;
    for (let edge = s.firstEdge[node]!; edge < s.firstEdge[node + 1]!; edge += s.edgeFields) {
      if (s.edges[edge + s.e.type] === weak) continue;
      const to = toOrdinal(edge);
      if (bfsParent[to] !== -1) continue;
      bfsParent[to] = node;
      bfsParentEdge[to] = edge;
      queue[tail++] = to;
    }
  }
  const rpo = new Int32Array(post);
  for (let k = 0; k < post; k++) rpo[k] = byOrder[post - 1 - k]!;
  return { rpo, idom, retained, bfsParent, bfsParentEdge };
}

function pathTo(s: Snapshot, a: Analysis, node: number, hops = 14): string {
  const parts: string[] = [];
  let current = node;
  while (current !== 0 && a.bfsParent[current]! >= 0 && parts.length < hops) {
    parts.push(`${edgeLabel(s, a.bfsParentEdge[current]!)} → ${classOf(s, current)}`);
    current = a.bfsParent[current]!;
  }
  if (current !== 0) parts.push('…');
  parts.push(current === 0 ? '(root)' : classOf(s, current));
  return parts.reverse().join(' ');
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;
const pad = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length));

function classTable(s: Snapshot, filter: (i: number) => boolean = () => true): Map<string, { count: number; self: number }> {
  const table = new Map<string, { count: number; self: number }>();
  for (let i = 0; i < s.nodeCount; i++) {
    if (!filter(i)) continue;
    const key = classOf(s, i);
    const row = table.get(key) ?? { count: 0, self: 0 };
    row.count++;
    row.self += sizeOf(s, i);
    table.set(key, row);
  }
  return table;
}

function main(): void {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number): number => {
    const at = args.indexOf(name);
    if (at < 0) return fallback;
    const value = Number(args.splice(at, 2)[1]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`Expected ${name} to be an integer >= 0`);
    return value;
  };
  const top = option('--top', 25);
  const pathsPer = option('--paths', 2);
  const inside = option('--inside', 0);
  if (args.length < 1 || args.length > 2) {
    console.error('usage: npx tsx scripts/heap-snapshot.ts [a.heapsnapshot] b.heapsnapshot [--top N] [--paths N]');
    process.exit(2);
  }
  const [first, second] = args as [string, string | undefined];
  const a = second ? readSnapshot(first) : undefined;
  const b = readSnapshot(second ?? first);
  const analysis = analyse(b);
  let total = 0;
  for (let i = 0; i < b.nodeCount; i++) total += sizeOf(b, i);
  console.log(`${second ?? first}: ${b.nodeCount} nodes, ${mb(total)} self in all, ${mb(analysis.retained[0]!)} reachable`);

  const tableB = classTable(b);
  const tableA = a ? classTable(a) : undefined;
  const rows = [...tableB.entries()].map(([key, row]) => ({ key, ...row, before: tableA?.get(key) }));
  for (const [key, row] of tableA ?? []) if (!tableB.has(key)) rows.push({ key, count: 0, self: 0, before: row });
  rows.sort((x, y) => y.self - (y.before?.self ?? 0) - (x.self - (x.before?.self ?? 0)) || y.self - x.self);
  console.log(`\nBy class${a ? `, sorted by growth since ${first}` : ', by self size'} (top ${top})`);
  console.log(`${pad('class', 64)} ${'count'.padStart(9)} ${'self MB'.padStart(9)}${a ? `${'Δ count'.padStart(10)} ${'Δ self MB'.padStart(10)}` : ''}`);
  for (const row of (a ? rows : rows.sort((x, y) => y.self - x.self)).slice(0, top)) {
    const delta = a ? `${String(row.count - (row.before?.count ?? 0)).padStart(10)} ${((row.self - (row.before?.self ?? 0)) / 1e6).toFixed(2).padStart(10)}` : '';
    console.log(`${pad(row.key, 64)} ${String(row.count).padStart(9)} ${(row.self / 1e6).toFixed(2).padStart(9)}${delta}`);
  }

  // Biggest single holders: nodes with the largest retained size that are not the root's plumbing.
  const holders = [...Array(b.nodeCount).keys()]
    .filter((i) => i !== 0 && typeOf(b, i) !== 'synthetic')
    .sort((x, y) => analysis.retained[y]! - analysis.retained[x]!)
    .slice(0, 200);
  console.log(`\nBiggest holders (retained size, dominator tree)`);
  let shown = 0;
  for (const i of holders) {
    // Skip a holder whose dominator is already listed: its size is in that one.
    let up = analysis.idom[i]!;
    let nested = false;
    while (up > 0) {
      if (holders.indexOf(up) >= 0 && holders.indexOf(up) < holders.indexOf(i)) nested = true;
      up = up === analysis.idom[up] ? 0 : analysis.idom[up]!;
    }
    if (nested) continue;
    console.log(`  ${mb(analysis.retained[i]!).padStart(10)}  ${classOf(b, i)} @${idOf(b, i)}\n              ${pathTo(b, analysis, i)}`);
    if (++shown >= Math.min(top, 15)) break;
  }

  if (!a) return;
  // Objects allocated after `a` still alive in `b`, grouped by the oldest object dominating them.
  const isNew = (i: number): boolean => idOf(b, i) % 2 === 1 && idOf(b, i) > a.maxId;
  const groups = new Map<string, { count: number; retained: number; samples: number[] }>();
  let newSelf = 0;
  let newCount = 0;
  for (let i = 0; i < b.nodeCount; i++) {
    if (!isNew(i)) continue;
    newSelf += sizeOf(b, i);
    newCount++;
    const dom = analysis.idom[i]!;
    if (dom < 0 || isNew(dom)) continue; // counted in a new dominator's retained size
    const key = `${classOf(b, i)}  held by  ${dom === 0 ? '(root)' : classOf(b, dom)}`;
    const group = groups.get(key) ?? { count: 0, retained: 0, samples: [] };
    group.count++;
    group.retained += analysis.retained[i]!;
    if (group.samples.length < pathsPer) group.samples.push(i);
    groups.set(key, group);
  }
  // What the biggest groups hold: the classes of everything their members dominate.
  const topGroups = [...groups.entries()].sort((x, y) => y[1].retained - x[1].retained).slice(0, inside);
  if (topGroups.length > 0) {
    const groupOf = new Int32Array(b.nodeCount).fill(-1);
    for (let i = 0; i < b.nodeCount; i++) {
      if (!isNew(i)) continue;
      const dom = analysis.idom[i]!;
      if (dom < 0 || isNew(dom)) continue;
      const key = `${classOf(b, i)}  held by  ${dom === 0 ? '(root)' : classOf(b, dom)}`;
      const g = topGroups.findIndex(([k]) => k === key);
      if (g >= 0) groupOf[i] = g;
    }
    const owner = new Int32Array(b.nodeCount).fill(-1);
    for (const node of analysis.rpo) {
      if (groupOf[node]! >= 0) owner[node] = groupOf[node]!;
      else if (node !== 0) owner[node] = owner[analysis.idom[node]!]!;
    }
    topGroups.forEach(([key, group], g) => {
      const table = classTable(b, (i) => owner[i] === g);
      console.log(`\nInside ${group.count} × ${key} (${mb(group.retained)}), by class:`);
      for (const [name, row] of [...table.entries()].sort((x, y) => y[1].self - x[1].self).slice(0, top)) {
        console.log(`  ${pad(name, 64)} ${String(row.count).padStart(9)} ${(row.self / 1e6).toFixed(3).padStart(9)} MB  ${(row.self / group.count).toFixed(0).padStart(7)} B each`);
      }
    });
  }
  console.log(`\nAllocated after ${first} (id > ${a.maxId}) and alive in ${second}: ${newCount} objects, ${mb(newSelf)}`);
  console.log(`By what holds them (top ${top}, retained size):`);
  for (const [key, group] of [...groups.entries()].sort((x, y) => y[1].retained - x[1].retained).slice(0, top)) {
    console.log(`  ${mb(group.retained).padStart(10)} ${String(group.count).padStart(7)} × ${key}`);
    for (const i of group.samples) console.log(`              ${pathTo(b, analysis, i)}`);
  }
}

main();
