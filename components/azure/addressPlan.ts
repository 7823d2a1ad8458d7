/**
 * The address plan of the Azure side: the VNet, its node subnet, and the overlay pod and service ranges of AKS.
 *
 * Pure: IPv4 CIDR arithmetic over plain data, no cloud package. With Azure CNI overlay only the nodes take VNet
 * addresses; pods get theirs from a private overlay range that must not overlap the VNet (or anything routed to
 * it), and Services from a range that must overlap neither.
 */

/** An IPv4 block: its first address as an unsigned 32-bit number, and the prefix length. */
export interface Cidr {
    base: number;
    prefix: number;
}

/** The addresses the Azure network and the AKS cluster use. */
export interface AddressPlan {
    /** The VNet's address space. */
    vnetCidr: string;
    /** The subnet the nodes of every pool join: the first /22 of the VNet (the whole VNet when it is smaller). */
    nodeSubnetCidr: string;
    /** The overlay range pods get their addresses from (outside the VNet). */
    podCidr: string;
    /** The range of ClusterIP Services (outside the VNet and the pod range). */
    serviceCidr: string;
    /** The cluster DNS Service address: the tenth address of the service range. */
    dnsServiceIp: string;
}

/** Prefix of the node subnet when the VNet is larger: 1019 usable addresses, one per node with overlay. */
export const NODE_SUBNET_PREFIX = 22;
/** Smallest VNet we accept: a /24 still leaves 251 node addresses after Azure's 5 reserved ones. */
export const MAX_VNET_PREFIX = 24;
/** Largest VNet we accept. */
export const MIN_VNET_PREFIX = 8;

/** The private ranges of RFC 1918; the VNet must lie inside one of them. */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

/**
 * Ranges AKS does not allow in the VNet, the pod range or the Service range (link-local, its own 172.30/16 and
 * 172.31/16, and 192.0.2.0/24).
 */
export const RESERVED_RANGES = [
    "169.254.0.0/16",
    "172.30.0.0/16",
    "172.31.0.0/16",
    "192.0.2.0/24",
] as const;

/** Candidate overlay pod ranges in order of preference (AKS's default first), one in each private block. */
const POD_CANDIDATES = ["10.244.0.0/16", "192.168.0.0/16", "172.20.0.0/16"];
/** Candidate Service ranges in order of preference (AKS's default first), one in each private block. */
const SERVICE_CANDIDATES = ["10.0.0.0/16", "172.16.0.0/16", "192.168.0.0/16"];

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The 32-bit number of a dotted IPv4 address, or undefined when the text is not one. */
export function parseIp(text: string): number | undefined {
    const m = IPV4.exec(text.trim());
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    return ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
}

/** The dotted form of a 32-bit address. */
export function formatIp(n: number): string {
    return [24, 16, 8, 0].map((shift) => (Math.floor(n / 2 ** shift) & 255).toString()).join(".");
}

/** Number of addresses in a block. */
export function cidrSize(c: Cidr): number {
    return 2 ** (32 - c.prefix);
}

/**
 * Parses `a.b.c.d/n`. Returns undefined when the text is not a CIDR, or the address is not the first of its
 * block (`10.10.1.0/16`), since Azure rejects those.
 */
export function parseCidr(text: string): Cidr | undefined {
    const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
    if (!m) return undefined;
    const base = parseIp(m[1]);
    const prefix = Number(m[2]);
    if (base === undefined || prefix > 32) return undefined;
    if (base % 2 ** (32 - prefix) !== 0) return undefined;
    return { base, prefix };
}

/** The text form `a.b.c.d/n`. */
export function formatCidr(c: Cidr): string {
    return `${formatIp(c.base)}/${c.prefix}`;
}

/** Whether two blocks share any address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
    return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

/** Whether `inner` lies entirely inside `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
    return inner.base >= outer.base && inner.base + cidrSize(inner) <= outer.base + cidrSize(outer);
}

const cidr = (text: string): Cidr => parseCidr(text) as Cidr;

/**
 * Why a VNet range cannot carry the plan, or undefined when it can. The message quotes the value and says the
 * fix; config validation prefixes it with the setting's path.
 */
export function addressPlanProblem(vnetCidr: string): string | undefined {
    const loose = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(vnetCidr.trim());
    if (!loose || parseIp(loose[1]) === undefined || Number(loose[2]) > 32) {
        return `got ${JSON.stringify(vnetCidr)}; expected an IPv4 CIDR such as "10.10.0.0/16".`;
    }
    const prefix = Number(loose[2]);
    const parsed = parseCidr(vnetCidr);
    if (!parsed) {
        const size = 2 ** (32 - prefix);
        const aligned = { base: Math.floor((parseIp(loose[1]) as number) / size) * size, prefix };
        return `got ${JSON.stringify(vnetCidr)}; the address is not the first of its /${prefix} block. Use ${JSON.stringify(formatCidr(aligned))}.`;
    }
    if (prefix < MIN_VNET_PREFIX || prefix > MAX_VNET_PREFIX) {
        return `got ${JSON.stringify(vnetCidr)}; the VNet must be between a /${MIN_VNET_PREFIX} and a /${MAX_VNET_PREFIX} so the node subnet has room for every node. Use e.g. "10.10.0.0/16".`;
    }
    if (!PRIVATE_RANGES.some((r) => contains(cidr(r), parsed))) {
        return `got ${JSON.stringify(vnetCidr)}; the VNet must lie in a private range (${PRIVATE_RANGES.join(", ")}). Use e.g. "10.10.0.0/16".`;
    }
    const reserved = RESERVED_RANGES.filter((r) => overlaps(cidr(r), parsed));
    if (reserved.length > 0) {
        return `got ${JSON.stringify(vnetCidr)}; it overlaps ${reserved.join(", ")}, which AKS nodes reserve. Use e.g. "10.10.0.0/16".`;
    }
    return undefined;
}

/**
 * Plans the addresses for a VNet range: the node subnet inside it, and pod and Service ranges outside it, outside
 * each other and outside the ranges AKS reserves. Throws with `addressPlanProblem`'s message for a bad range.
 */
export function planAddresses(vnetCidr: string): AddressPlan {
    const problem = addressPlanProblem(vnetCidr);
    if (problem) {
        throw new Error(`valkey.azure.vnetCidr: ${problem}`);
    }
    const vnet = cidr(vnetCidr);
    const nodeSubnet: Cidr = { base: vnet.base, prefix: Math.max(vnet.prefix, NODE_SUBNET_PREFIX) };
    const taken = [vnet, ...RESERVED_RANGES.map(cidr)];
    const pick = (candidates: string[], what: string): Cidr => {
        const found = candidates.map(cidr).find((c) => !taken.some((t) => overlaps(t, c)));
        if (!found) {
            // Unreachable for a VNet inside one private block: each list has a candidate in each other block.
            throw new Error(`internal: no ${what} range left beside VNet ${vnetCidr}`);
        }
        taken.push(found);
        return found;
    };
    const pods = pick(POD_CANDIDATES, "pod");
    const services = pick(SERVICE_CANDIDATES, "service");
    return {
        vnetCidr: formatCidr(vnet),
        nodeSubnetCidr: formatCidr(nodeSubnet),
        podCidr: formatCidr(pods),
        serviceCidr: formatCidr(services),
        dnsServiceIp: formatIp(services.base + 10),
    };
}
