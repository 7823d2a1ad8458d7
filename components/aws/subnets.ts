/**
 * The subnet plan of the AWS network: one public and one private IPv4 subnet per zone, carved out of the VPC
 * CIDR. Pure: plain data in, plain data out, no cloud package.
 *
 * The VPC CNI gives every pod an address of its node's subnet, so the private subnets get almost all of the
 * space: the VPC is split into 2^k equal blocks (the fewest that leave one spare block after one per zone), each
 * zone's private subnet is one block, and the last block is split again into one small public subnet per zone
 * (NAT gateways and load balancers only). With 10.0.0.0/16 and three zones: private /18s at 10.0.0.0,
 * 10.0.64.0 and 10.0.128.0, public /20s at 10.0.192.0, 10.0.208.0 and 10.0.224.0.
 */

/** An IPv4 CIDR block as numbers. */
export interface Cidr {
    /** The network address as an unsigned 32-bit integer. */
    base: number;
    /** The prefix length, 0..32. */
    prefix: number;
}

/** The two subnets of one zone. */
export interface ZoneSubnets {
    zone: string;
    /** For NAT gateways and internet-facing load balancers. */
    publicCidr: string;
    /** For nodes and pods. */
    privateCidr: string;
}

/** The narrowest subnet AWS accepts. */
export const MIN_SUBNET_PREFIX = 28;
/** The widest VPC AWS accepts. */
export const MAX_VPC_PREFIX = 16;
/** The narrowest VPC this plan accepts: /24 leaves /27 public subnets for three zones. */
export const MIN_VPC_PREFIX = 24;

/** Parses `a.b.c.d/n`; undefined when the text is not an IPv4 CIDR. */
export function parseCidr(text: string): Cidr | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const base = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
    return { base, prefix };
}

/** Formats a CIDR as `a.b.c.d/n`. */
export function formatCidr(c: Cidr): string {
    const b = c.base >>> 0;
    return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${c.prefix}`;
}

/** The number of addresses in a block. */
export function cidrSize(c: Cidr): number {
    return 2 ** (32 - c.prefix);
}

/** The network address of the block that holds `c.base` at `c.prefix` (host bits cleared). */
export function canonical(c: Cidr): Cidr {
    const size = cidrSize(c);
    return { base: Math.floor(c.base / size) * size, prefix: c.prefix };
}

/** Whether `inner` lies entirely inside `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
    return (
        inner.prefix >= outer.prefix &&
        inner.base >= outer.base &&
        inner.base + cidrSize(inner) <= outer.base + cidrSize(outer)
    );
}

/** Whether two blocks share an address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
    return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

/** The `index`-th block of prefix `prefix` inside `parent`. */
function subBlock(parent: Cidr, prefix: number, index: number): Cidr {
    return { base: parent.base + index * 2 ** (32 - prefix), prefix };
}

/** The fewest bits that number `n` distinct values. */
function bitsFor(n: number): number {
    return Math.max(0, Math.ceil(Math.log2(n)));
}

/**
 * Why no plan exists for this VPC CIDR and zone count, or undefined when one does. The message quotes the value
 * and says the fix; config validation prefixes it with the setting's path.
 */
export function subnetPlanProblem(vpcCidr: string, zoneCount: number): string | undefined {
    const vpc = parseCidr(vpcCidr);
    if (!vpc) {
        return `got ${JSON.stringify(vpcCidr)}; use an IPv4 CIDR block such as "10.0.0.0/16".`;
    }
    const normal = canonical(vpc);
    if (normal.base !== vpc.base) {
        return `got ${JSON.stringify(vpcCidr)}, which has host bits set. Use its network address, "${formatCidr(normal)}".`;
    }
    if (vpc.prefix < MAX_VPC_PREFIX || vpc.prefix > MIN_VPC_PREFIX) {
        return `got ${JSON.stringify(vpcCidr)}; a VPC block must be between /${MAX_VPC_PREFIX} and /${MIN_VPC_PREFIX} here (pods take addresses from the private subnets). Use e.g. "10.0.0.0/16".`;
    }
    if (zoneCount < 1) {
        return undefined;
    }
    const privatePrefix = vpc.prefix + bitsFor(zoneCount + 1);
    const publicPrefix = privatePrefix + bitsFor(zoneCount);
    if (publicPrefix > MIN_SUBNET_PREFIX) {
        return `got ${JSON.stringify(vpcCidr)} with ${zoneCount} zones; the public subnets would be /${publicPrefix}, narrower than the /${MIN_SUBNET_PREFIX} AWS allows. Use a /${vpc.prefix - (publicPrefix - MIN_SUBNET_PREFIX)} block or wider, e.g. "10.0.0.0/16".`;
    }
    return undefined;
}

/**
 * The public and private subnet of every zone, in zone order. Throws when `subnetPlanProblem` reports one
 * (config validation refuses those settings first).
 */
export function planSubnets(vpcCidr: string, zones: readonly string[]): ZoneSubnets[] {
    const problem = subnetPlanProblem(vpcCidr, zones.length);
    if (problem) {
        throw new Error(`valkey.aws.vpcCidr: ${problem}`);
    }
    const vpc = parseCidr(vpcCidr)!;
    const privatePrefix = vpc.prefix + bitsFor(zones.length + 1);
    const spare = subBlock(vpc, privatePrefix, 2 ** (privatePrefix - vpc.prefix) - 1);
    const publicPrefix = privatePrefix + bitsFor(zones.length);
    return zones.map((zone, i) => ({
        zone,
        privateCidr: formatCidr(subBlock(vpc, privatePrefix, i)),
        publicCidr: formatCidr(subBlock(spare, publicPrefix, i)),
    }));
}
