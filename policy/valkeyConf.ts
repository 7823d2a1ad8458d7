/**
 * Reads a rendered valkey.conf back into directives, for the checks that join it with the containers
 * (maxmemory against the memory limit, persistence against the volume, auth). Pure.
 */

/** The directives of a valkey.conf: name (lower case) -> the arguments of each occurrence, in order. */
export type ValkeyConf = Map<string, string[][]>;

/** Splits one config line into words the way Valkey does: whitespace separated, "double" or 'single' quoted. */
function words(line: string): string[] {
    const out: string[] = [];
    const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(line)) !== null) {
        out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? m[3]));
    }
    return out;
}

/** Parses valkey.conf text; comments and blank lines are skipped. */
export function parseValkeyConf(text: string): ValkeyConf {
    const conf: ValkeyConf = new Map();
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) continue;
        const [name, ...args] = words(line);
        const key = name.toLowerCase();
        conf.set(key, [...(conf.get(key) ?? []), args]);
    }
    return conf;
}

/** The arguments of the last occurrence of a directive (the one Valkey keeps). */
export function lastDirective(conf: ValkeyConf, name: string): string[] | undefined {
    const all = conf.get(name);
    return all && all.length > 0 ? all[all.length - 1] : undefined;
}

const units: Record<string, number> = {
    "": 1,
    k: 1e3,
    kb: 2 ** 10,
    m: 1e6,
    mb: 2 ** 20,
    g: 1e9,
    gb: 2 ** 30,
};

/** Bytes in a valkey.conf memory value (`4831838208`, `4gb`, `512mb`, `1g` = 10^9), or undefined. */
export function parseConfMemory(value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const m = /^(\d+)([kmg]b?)?$/i.exec(value.trim());
    if (!m) return undefined;
    return Number(m[1]) * units[(m[2] ?? "").toLowerCase()];
}

/** The maxmemory of a conf in bytes; undefined when unset (or unparseable), 0 when explicitly unlimited. */
export function maxmemoryOf(conf: ValkeyConf): number | undefined {
    return parseConfMemory(lastDirective(conf, "maxmemory")?.[0]);
}

/**
 * True when the node writes data to its volume: `appendonly yes`, or RDB snapshots — a `save` schedule, or no
 * `save` directive at all (Valkey then keeps its default schedule). `save ""` turns snapshots off.
 */
export function persistenceOn(conf: ValkeyConf): boolean {
    if (lastDirective(conf, "appendonly")?.[0]?.toLowerCase() === "yes") return true;
    const saves = conf.get("save");
    if (saves === undefined) return true;
    // A later `save ""` resets the schedule; later `save <s> <n>` lines add to it.
    let on = false;
    for (const args of saves) {
        on = args.length > 0 && args.some((a) => a !== "");
    }
    return on;
}
