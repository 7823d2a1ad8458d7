/**
 * The adapter between the program's Aiven resources and the Aiven policies: which resource is an Aiven for
 * Valkey service, and the fields of it the checks read (in the inputs' shape of @pulumi/aiven's `Valkey`).
 * Following a change of the Aiven side (components/aiven/) is one edit here.
 *
 * Pure: plain data in, plain data out.
 */
import { AIVEN_VALKEY_TYPE } from "../components/aiven/mapping";
import type { PlainResource } from "./common";

type Obj = Record<string, any>;
const obj = (v: unknown): Obj =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};

/** Whether a resource is an Aiven for Valkey service. */
export function isAivenValkey(r: PlainResource): boolean {
    return r.type === AIVEN_VALKEY_TYPE;
}

/** The Aiven service name of a service (`serviceName`), or the Pulumi name when it has none. */
export function aivenServiceName(r: PlainResource): string {
    const n = r.props.serviceName;
    return typeof n === "string" && n !== "" ? n : r.name;
}

/** The service's `valkeyUserConfig` (empty when unset). */
export function aivenUserConfig(r: PlainResource): Obj {
    return obj(r.props.valkeyUserConfig);
}

/**
 * The entries of the service's IP filter, whichever form holds them (`ipFilterStrings`, `ipFilterObjects`'
 * networks, the deprecated `ipFilters`), or undefined when none is set: Aiven then admits every address.
 */
export function ipFilterOf(r: PlainResource): string[] | undefined {
    const c = aivenUserConfig(r);
    const forms: unknown[][] = [c.ipFilterStrings, c.ipFilterObjects, c.ipFilters].filter(
        (f): f is unknown[] => Array.isArray(f),
    );
    if (forms.length === 0) return undefined;
    return forms.flat().map((e) => String(typeof e === "string" ? e : obj(e).network));
}
