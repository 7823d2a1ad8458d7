import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    canonical,
    contains,
    formatCidr,
    overlaps,
    parseCidr,
    planSubnets,
    subnetPlanProblem,
    MIN_SUBNET_PREFIX,
} from "../../../components/aws/subnets";

const zonesOf = (n: number): string[] =>
    Array.from({ length: n }, (_, i) => `us-east-1${String.fromCharCode(97 + i)}`);

describe("subnet plan (table)", () => {
    it("10.0.0.0/16 over three zones: private /18s, public /20s in the last quarter", () => {
        assert.deepEqual(planSubnets("10.0.0.0/16", zonesOf(3)), [
            { zone: "us-east-1a", privateCidr: "10.0.0.0/18", publicCidr: "10.0.192.0/20" },
            { zone: "us-east-1b", privateCidr: "10.0.64.0/18", publicCidr: "10.0.208.0/20" },
            { zone: "us-east-1c", privateCidr: "10.0.128.0/18", publicCidr: "10.0.224.0/20" },
        ]);
    });
    it("two zones use the same split, four zones eighths", () => {
        assert.deepEqual(
            planSubnets("10.0.0.0/16", zonesOf(2)).map((z) => [z.privateCidr, z.publicCidr]),
            [
                ["10.0.0.0/18", "10.0.192.0/19"],
                ["10.0.64.0/18", "10.0.224.0/19"],
            ],
        );
        assert.deepEqual(
            planSubnets("172.16.0.0/16", zonesOf(4)).map((z) => z.privateCidr),
            ["172.16.0.0/19", "172.16.32.0/19", "172.16.64.0/19", "172.16.96.0/19"],
        );
        assert.equal(planSubnets("172.16.0.0/16", zonesOf(4))[3].publicCidr, "172.16.248.0/21");
    });
    it("a /24 VPC still fits three zones with /28 public subnets", () => {
        assert.deepEqual(planSubnets("192.168.10.0/24", zonesOf(3))[2], {
            zone: "us-east-1c",
            privateCidr: "192.168.10.128/26",
            publicCidr: "192.168.10.224/28",
        });
    });
    it("refuses what AWS would refuse, with the fix", () => {
        assert.equal(subnetPlanProblem("10.0.0.0/16", 3), undefined);
        assert.equal(
            subnetPlanProblem("10.0.0/16", 3),
            'got "10.0.0/16"; use an IPv4 CIDR block such as "10.0.0.0/16".',
        );
        assert.equal(
            subnetPlanProblem("10.0.1.0/16", 3),
            'got "10.0.1.0/16", which has host bits set. Use its network address, "10.0.0.0/16".',
        );
        assert.equal(
            subnetPlanProblem("10.0.0.0/8", 3),
            'got "10.0.0.0/8"; a VPC block must be between /16 and /24 here (pods take addresses from the private subnets). Use e.g. "10.0.0.0/16".',
        );
        assert.equal(
            subnetPlanProblem("10.0.0.0/24", 4),
            'got "10.0.0.0/24" with 4 zones; the public subnets would be /29, narrower than the /28 AWS allows. Use a /23 block or wider, e.g. "10.0.0.0/16".',
        );
        assert.throws(
            () => planSubnets("10.0.0.0/8", zonesOf(3)),
            /^Error: valkey\.aws\.vpcCidr: got "10\.0\.0\.0\/8"/,
        );
    });
    it("parses and formats CIDRs", () => {
        assert.deepEqual(parseCidr("10.1.2.0/24"), {
            base: (10 << 24) + (1 << 16) + (2 << 8),
            prefix: 24,
        });
        assert.equal(parseCidr("256.0.0.0/16"), undefined);
        assert.equal(parseCidr("10.0.0.0/33"), undefined);
        assert.equal(formatCidr(parseCidr("255.255.255.0/24")!), "255.255.255.0/24");
    });
});

/** A valid VPC block: any network address with a prefix of /16../24. */
const vpcArb = fc
    .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 16, max: 24 }))
    .map(([ip, prefix]) => formatCidr(canonical({ base: ip, prefix })));

describe("subnet plan (properties)", () => {
    it("every subnet lies inside the VPC, none overlaps another, and each zone gets one of each", () => {
        fc.assert(
            fc.property(vpcArb, fc.integer({ min: 1, max: 8 }), (vpcCidr, n) => {
                fc.pre(subnetPlanProblem(vpcCidr, n) === undefined);
                const vpc = parseCidr(vpcCidr)!;
                const plan = planSubnets(vpcCidr, zonesOf(n));
                assert.deepEqual(
                    plan.map((p) => p.zone),
                    zonesOf(n),
                );
                const all = plan.flatMap((p) => [
                    parseCidr(p.privateCidr)!,
                    parseCidr(p.publicCidr)!,
                ]);
                for (const c of all) {
                    assert.ok(contains(vpc, c), `${formatCidr(c)} is outside ${vpcCidr}`);
                    assert.ok(
                        c.prefix <= MIN_SUBNET_PREFIX,
                        `${formatCidr(c)} is narrower than /${MIN_SUBNET_PREFIX}`,
                    );
                    assert.equal(
                        canonical(c).base,
                        c.base,
                        `${formatCidr(c)} is not a network address`,
                    );
                }
                for (let i = 0; i < all.length; i++) {
                    for (let j = i + 1; j < all.length; j++) {
                        assert.ok(
                            !overlaps(all[i], all[j]),
                            `${formatCidr(all[i])} overlaps ${formatCidr(all[j])}`,
                        );
                    }
                }
            }),
            { numRuns: 500 },
        );
    });
    it("private subnets are at least as wide as public ones (pods live there)", () => {
        fc.assert(
            fc.property(vpcArb, fc.integer({ min: 1, max: 8 }), (vpcCidr, n) => {
                fc.pre(subnetPlanProblem(vpcCidr, n) === undefined);
                for (const p of planSubnets(vpcCidr, zonesOf(n))) {
                    assert.ok(parseCidr(p.privateCidr)!.prefix <= parseCidr(p.publicCidr)!.prefix);
                }
            }),
        );
    });
    it("the plan exists for every VPC of /16../24 with up to 3 zones (the defaults never fail)", () => {
        fc.assert(
            fc.property(vpcArb, fc.integer({ min: 1, max: 3 }), (vpcCidr, n) => {
                assert.equal(subnetPlanProblem(vpcCidr, n), undefined);
            }),
        );
    });
    it("refuses every block with host bits set", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 0, max: 2 ** 32 - 1 }),
                fc.integer({ min: 16, max: 24 }),
                (ip, prefix) => {
                    const text = formatCidr({ base: ip, prefix });
                    const isCanonical = canonical({ base: ip, prefix }).base === ip;
                    assert.equal(subnetPlanProblem(text, 3) === undefined, isCanonical);
                },
            ),
        );
    });
});
