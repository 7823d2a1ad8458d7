/**
 * Kubernetes resource quantities ("4Gi", "512Mi", "1.5", "500m") as plain numbers, shared by config
 * validation, the conf renderer and the policy pack. Pure: no cloud package.
 */

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const decimal: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/** Bytes in a memory or storage quantity, or undefined when the text is not a quantity. */
export function parseBytes(q: string | number | undefined): number | undefined {
    if (typeof q === "number") {
        return Number.isFinite(q) && q >= 0 ? q : undefined;
    }
    if (typeof q !== "string") {
        return undefined;
    }
    const m = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?\s*$/.exec(q);
    if (!m) {
        return undefined;
    }
    const n = Number(m[1]);
    const unit = m[2];
    const factor = unit === undefined ? 1 : (binary[unit] ?? decimal[unit]);
    return Math.floor(n * factor);
}

/** Cores in a CPU quantity ("2", "1.5", "500m"), or undefined when the text is not a quantity. */
export function parseCpu(q: string | number | undefined): number | undefined {
    if (typeof q === "number") {
        return Number.isFinite(q) && q > 0 ? q : undefined;
    }
    if (typeof q !== "string") {
        return undefined;
    }
    const m = /^\s*(\d+(?:\.\d+)?)(m)?\s*$/.exec(q);
    if (!m) {
        return undefined;
    }
    return m[2] ? Number(m[1]) / 1000 : Number(m[1]);
}

/** A byte count as the largest exact binary unit ("6Gi", "1536Mi"), for messages and manifests. */
export function formatBytes(bytes: number): string {
    for (const unit of ["Pi", "Ti", "Gi", "Mi", "Ki"]) {
        const f = binary[unit];
        if (bytes >= f && bytes % f === 0) {
            return `${bytes / f}${unit}`;
        }
    }
    if (bytes >= binary.Gi) {
        return `${(bytes / binary.Gi).toFixed(1)}Gi`;
    }
    return `${bytes}`;
}
