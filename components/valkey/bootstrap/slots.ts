/**
 * Pure hash-slot arithmetic: balanced contiguous ranges, range <-> slot list conversion, the key -> slot hash,
 * and the minimal set of slot moves that rebalances a cluster onto new per-shard targets. No I/O.
 */

/** The number of hash slots of a Valkey cluster. */
export const SLOT_COUNT = 16384;

/** An inclusive range of slots `[first, last]`. */
export type SlotRange = [number, number];

/**
 * The balanced contiguous ranges for `shards` primaries: shard i owns
 * `[floor(i * 16384 / shards), floor((i + 1) * 16384 / shards) - 1]`, so sizes differ by at most one.
 */
export function balancedRanges(shards: number): SlotRange[] {
    if (!Number.isInteger(shards) || shards < 1 || shards > SLOT_COUNT) {
        throw new Error(`balancedRanges: invalid shard count ${shards}`);
    }
    const out: SlotRange[] = [];
    for (let i = 0; i < shards; i++) {
        out.push([
            Math.floor((i * SLOT_COUNT) / shards),
            Math.floor(((i + 1) * SLOT_COUNT) / shards) - 1,
        ]);
    }
    return out;
}

/** How many slots each shard owns in the balanced layout (the rebalancing target). */
export function targetCounts(shards: number): number[] {
    return balancedRanges(shards).map(([a, b]) => b - a + 1);
}

/** The shard whose balanced range holds `slot`. */
export function shardOfSlot(slot: number, shards: number): number {
    // floor((i+1)*N/S) > slot  <=>  i >= ceil((slot+1)*S/N) - 1
    return Math.ceil(((slot + 1) * shards) / SLOT_COUNT) - 1;
}

/** Compresses slot numbers (any order, duplicates ignored) into sorted inclusive ranges. */
export function toRanges(slots: Iterable<number>): SlotRange[] {
    let sorted = Array.isArray(slots) ? (slots as number[]) : [...slots];
    // Slot lists are usually built in ascending order already: sort (and drop duplicates) only when needed.
    if (!sorted.every((s, i) => i === 0 || s > sorted[i - 1]))
        sorted = [...new Set(sorted)].sort((a, b) => a - b);
    const out: SlotRange[] = [];
    for (const s of sorted) {
        const last = out[out.length - 1];
        if (last && last[1] === s - 1) last[1] = s;
        else out.push([s, s]);
    }
    return out;
}

/** Expands inclusive ranges into slot numbers. */
export function expandRanges(ranges: readonly SlotRange[]): number[] {
    const out: number[] = [];
    for (const [a, b] of ranges) {
        for (let s = a; s <= b; s++) out.push(s);
    }
    return out;
}

/** Formats ranges for messages: "0-5460,5462". */
export function formatRanges(ranges: readonly SlotRange[]): string {
    return ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");
}

/** CRC16/XMODEM as Valkey uses it for key hashing. */
function crc16(buf: Uint8Array, start: number, end: number): number {
    let crc = 0;
    for (let i = start; i < end; i++) {
        crc ^= buf[i] << 8;
        for (let b = 0; b < 8; b++) {
            crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
        }
    }
    return crc;
}

/** The hash slot of a key, honouring `{hash tags}` exactly as the server does. */
export function keySlot(key: string | Uint8Array): number {
    const buf = typeof key === "string" ? Buffer.from(key) : key;
    const open = buf.indexOf(0x7b); // {
    if (open >= 0) {
        const close = buf.indexOf(0x7d, open + 1); // }
        if (close > open + 1) return crc16(buf, open + 1, close) % SLOT_COUNT;
    }
    return crc16(buf, 0, buf.length) % SLOT_COUNT;
}

/** One slot to move from one owner to another (owners are opaque names: node ids of the plan). */
export interface SlotMove {
    slot: number;
    from: string;
    to: string;
}

/** The slots one owner holds now. */
export interface Holding {
    owner: string;
    slots: readonly number[];
}

/**
 * The fewest slot moves that bring every owner to its target count: owners above target give away their
 * highest slots (so what stays is as contiguous as it was), owners below target receive, in the order given.
 * Owners missing from `targets` have target 0 (they are drained). Deterministic for a given input.
 *
 * @throws when the targets do not add up to the slots held
 */
export function rebalanceMoves(
    holdings: readonly Holding[],
    targets: ReadonlyMap<string, number>,
): SlotMove[] {
    const held = holdings.reduce((n, h) => n + h.slots.length, 0);
    const wanted = [...targets.values()].reduce((n, t) => n + t, 0);
    if (held !== wanted) {
        throw new Error(`rebalanceMoves: targets add up to ${wanted} slots but ${held} are held`);
    }
    const count = new Map<string, number>();
    for (const h of holdings) count.set(h.owner, (count.get(h.owner) ?? 0) + h.slots.length);
    const giving: { owner: string; slot: number }[] = [];
    for (const h of holdings) {
        const surplus = h.slots.length - (targets.get(h.owner) ?? 0);
        if (surplus > 0) {
            const sorted = [...h.slots].sort((a, b) => a - b);
            for (const slot of sorted.slice(sorted.length - surplus))
                giving.push({ owner: h.owner, slot });
        }
    }
    const moves: SlotMove[] = [];
    let next = 0;
    for (const [owner, target] of targets) {
        const deficit = target - (count.get(owner) ?? 0);
        for (let k = 0; k < deficit; k++) {
            const g = giving[next++];
            moves.push({ slot: g.slot, from: g.owner, to: owner });
        }
    }
    return moves;
}
