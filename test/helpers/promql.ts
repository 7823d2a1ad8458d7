/**
 * Small PromQL helpers for the observability tests: the metric names an expression reads, the exporter's metric
 * names (the fixture of the pinned version), and Grafana's variables replaced so that promtool can parse a panel's
 * query.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./program";

/** The fixture of the pinned exporter's metric names (its header says where they come from). */
export const EXPORTER_METRICS_FIXTURE = path.join(
    ROOT,
    "test",
    "fixtures",
    "redis_exporter-v1.67.0-metrics.txt",
);

/** Series that Prometheus itself adds to every scrape, allowed beside the exporter's. */
export const PROMETHEUS_SERIES = ["up"];

/** The metric names of the fixture: one a line, `#` comments and blank lines ignored. */
export function exporterMetrics(file = EXPORTER_METRICS_FIXTURE): Set<string> {
    return new Set(
        fs
            .readFileSync(file, "utf8")
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "" && !l.startsWith("#")),
    );
}

/** Keywords whose parenthesised argument is a list of label names, not an expression. */
const LABEL_LIST_KEYWORDS = new Set([
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
]);
/**
 * Other bare words of PromQL that are not metric names: binary operators, modifiers, and the aggregation operators
 * (whose `by (...)` may stand between the name and its parenthesis).
 */
const KEYWORDS = new Set(
    (
        "and or unless bool offset inf nan atan2 start end " +
        "sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio"
    ).split(" "),
);

/** The index just past the bracket that closes the one at `open` (strings inside are skipped). */
function closing(expr: string, open: number): number {
    const pairs: Record<string, string> = { "(": ")", "{": "}", "[": "]" };
    const want = pairs[expr[open]];
    let depth = 0;
    for (let i = open; i < expr.length; i++) {
        const c = expr[i];
        if (c === '"' || c === "'" || c === "`") {
            i = stringEnd(expr, i) - 1;
        } else if (c === expr[open]) {
            depth++;
        } else if (c === want && --depth === 0) {
            return i + 1;
        }
    }
    throw new Error(`unbalanced ${expr[open]} at ${open} in ${expr}`);
}

/** The index just past the string literal starting at `start`. */
function stringEnd(expr: string, start: number): number {
    const quote = expr[start];
    for (let i = start + 1; i < expr.length; i++) {
        if (expr[i] === "\\" && quote !== "`") i++;
        else if (expr[i] === quote) return i + 1;
    }
    throw new Error(`unterminated string at ${start} in ${expr}`);
}

/**
 * The metric names a PromQL expression selects: bare identifiers that are not functions, keywords, label names
 * (in `{...}`, `by (...)`, `on (...)` ...), durations or numbers.
 */
export function metricNames(expr: string): string[] {
    const names = new Set<string>();
    let i = 0;
    while (i < expr.length) {
        const c = expr[i];
        if (c === '"' || c === "'" || c === "`") {
            i = stringEnd(expr, i);
        } else if (c === "{" || c === "[") {
            i = closing(expr, i);
        } else if (/[0-9.]/.test(c)) {
            i +=
                /^(0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?[a-z]*)/.exec(expr.slice(i))?.[0]
                    .length || 1;
        } else if (/[a-zA-Z_:]/.test(c)) {
            const word = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i))![0];
            i += word.length;
            let j = i;
            while (j < expr.length && /\s/.test(expr[j])) j++;
            if (LABEL_LIST_KEYWORDS.has(word)) {
                if (expr[j] === "(") i = closing(expr, j);
            } else if (expr[j] !== "(" && !KEYWORDS.has(word.toLowerCase())) {
                names.add(word);
            }
        } else {
            i++;
        }
    }
    return [...names];
}

/** The names an expression reads that neither the exporter nor Prometheus provides. */
export function unknownMetrics(expr: string, known: Set<string> = exporterMetrics()): string[] {
    return metricNames(expr).filter((n) => !known.has(n) && !PROMETHEUS_SERIES.includes(n));
}

/**
 * A Grafana query as plain PromQL: Grafana's interval variables become durations, every other `$variable` (in
 * label matchers) becomes `.*`.
 */
export function withoutGrafanaVariables(expr: string): string {
    return expr
        .replace(/\$__(rate_interval|interval|range)\b/g, "5m")
        .replace(/\$\{?[a-zA-Z_][a-zA-Z0-9_]*(:[a-z]+)?\}?/g, ".*");
}
