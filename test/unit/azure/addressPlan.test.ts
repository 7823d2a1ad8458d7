import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    PRIVATE_RANGES,
    RESERVED_RANGES,
    addressPlanProblem,
    cidrSize,
    contains,
    formatCidr,
    overlaps,
    parseCidr,
    parseIp,
    planAddresses,
} from "../../../components/azure/addressPlan";

const c = (text: string) => {
    const parsed = parseCidr(text);
    assert.ok(parsed, `${text} should parse`);
    return parsed;
};

describe("CIDR arithmetic", () => {
    it("parses and formats", () => {
        assert.deepEqual(parseCidr("10.10.0.0/16"), { base: parseIp("10.10.0.0"), prefix: 16 });
        assert.equal(formatCidr(c("192.168.4.0/22")), "192.168.4.0/22");
        assert.equal(cidrSize(c("10.0.0.0/24")), 256);
        assert.equal(parseIp("255.255.255.255"), 2 ** 32 - 1);
    });
    it("refuses what is not a block start or not an address", () => {
        for (const bad of [
            "10.10.1.0/16",
            "10.0.0.0/33",
            "10.0.0/16",
            "300.0.0.0/8",
            "10.0.0.0",
            "ten/8",
        ]) {
            assert.equal(parseCidr(bad), undefined, bad);
        }
    });
    it("overlap and containment", () => {
        assert.ok(overlaps(c("10.0.0.0/8"), c("10.244.0.0/16")));
        assert.ok(!overlaps(c("10.0.0.0/16"), c("10.1.0.0/16")));
        assert.ok(contains(c("10.0.0.0/8"), c("10.10.0.0/22")));
        assert.ok(!contains(c("10.10.0.0/22"), c("10.0.0.0/8")));
    });
});

describe("planAddresses", () => {
    const table: [string, { node: string; pods: string; services: string; dns: string }][] = [
        [
            "10.10.0.0/16",
            {
                node: "10.10.0.0/22",
                pods: "10.244.0.0/16",
                services: "10.0.0.0/16",
                dns: "10.0.0.10",
            },
        ],
        [
            "10.0.0.0/8",
            {
                node: "10.0.0.0/22",
                pods: "192.168.0.0/16",
                services: "172.16.0.0/16",
                dns: "172.16.0.10",
            },
        ],
        [
            "10.0.0.0/16",
            {
                node: "10.0.0.0/22",
                pods: "10.244.0.0/16",
                services: "172.16.0.0/16",
                dns: "172.16.0.10",
            },
        ],
        [
            "10.244.0.0/16",
            {
                node: "10.244.0.0/22",
                pods: "192.168.0.0/16",
                services: "10.0.0.0/16",
                dns: "10.0.0.10",
            },
        ],
        [
            "192.168.0.0/16",
            {
                node: "192.168.0.0/22",
                pods: "10.244.0.0/16",
                services: "10.0.0.0/16",
                dns: "10.0.0.10",
            },
        ],
        [
            "172.20.8.0/24",
            {
                node: "172.20.8.0/24",
                pods: "10.244.0.0/16",
                services: "10.0.0.0/16",
                dns: "10.0.0.10",
            },
        ],
    ];
    for (const [vnet, want] of table) {
        it(`${vnet}`, () => {
            const plan = planAddresses(vnet);
            assert.deepEqual(plan, {
                vnetCidr: vnet,
                nodeSubnetCidr: want.node,
                podCidr: want.pods,
                serviceCidr: want.services,
                dnsServiceIp: want.dns,
            });
        });
    }
    it("throws the validation message for a bad range", () => {
        assert.throws(() => planAddresses("8.8.0.0/16"), {
            message:
                'valkey.azure.vnetCidr: got "8.8.0.0/16"; the VNet must lie in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16). Use e.g. "10.10.0.0/16".',
        });
    });
});

describe("addressPlanProblem messages", () => {
    const cases: [string, string][] = [
        ["10.10.0.0", 'got "10.10.0.0"; expected an IPv4 CIDR such as "10.10.0.0/16".'],
        [
            "10.10.1.0/16",
            'got "10.10.1.0/16"; the address is not the first of its /16 block. Use "10.10.0.0/16".',
        ],
        [
            "10.10.0.0/26",
            'got "10.10.0.0/26"; the VNet must be between a /8 and a /24 so the node subnet has room for every node. Use e.g. "10.10.0.0/16".',
        ],
        [
            "172.30.0.0/16",
            'got "172.30.0.0/16"; it overlaps 172.30.0.0/16, which AKS nodes reserve. Use e.g. "10.10.0.0/16".',
        ],
        [
            "172.16.0.0/12",
            'got "172.16.0.0/12"; it overlaps 172.30.0.0/16, 172.31.0.0/16, which AKS nodes reserve. Use e.g. "10.10.0.0/16".',
        ],
    ];
    for (const [vnet, message] of cases) {
        it(vnet, () => assert.equal(addressPlanProblem(vnet), message));
    }
    it("accepts the default", () => assert.equal(addressPlanProblem("10.10.0.0/16"), undefined));
});

/** Any block-aligned VNet of /8../24 inside a private range and clear of the reserved ones. */
const validVnet = fc
    .tuple(fc.constantFrom(...PRIVATE_RANGES), fc.integer({ min: 8, max: 24 }), fc.nat())
    .map(([range, prefix, n]) => {
        const outer = c(range);
        const p = Math.max(prefix, outer.prefix);
        const blocks = 2 ** (p - outer.prefix);
        return formatCidr({ base: outer.base + (n % blocks) * 2 ** (32 - p), prefix: p });
    })
    .filter((v) => addressPlanProblem(v) === undefined);

describe("address plan properties", () => {
    it("the node subnet lies in the VNet; pods and Services lie outside it, apart, and clear of reserved ranges", () => {
        fc.assert(
            fc.property(validVnet, (vnetText) => {
                const plan = planAddresses(vnetText);
                const vnet = c(plan.vnetCidr);
                const nodes = c(plan.nodeSubnetCidr);
                const pods = c(plan.podCidr);
                const services = c(plan.serviceCidr);
                assert.ok(contains(vnet, nodes));
                assert.ok(
                    cidrSize(nodes) - 5 >= 251,
                    "room for at least 251 nodes after Azure's 5 reserved addresses",
                );
                for (const [a, b] of [
                    [vnet, pods],
                    [vnet, services],
                    [pods, services],
                ]) {
                    assert.ok(!overlaps(a, b), `${formatCidr(a)} overlaps ${formatCidr(b)}`);
                }
                for (const r of RESERVED_RANGES) {
                    for (const x of [vnet, pods, services]) assert.ok(!overlaps(c(r), x));
                }
                for (const x of [pods, services])
                    assert.ok(PRIVATE_RANGES.some((r) => contains(c(r), x)));
            }),
            { numRuns: 500 },
        );
    });
    it("the DNS Service IP is inside the Service range and is neither its network address nor the API server's", () => {
        fc.assert(
            fc.property(validVnet, (vnetText) => {
                const plan = planAddresses(vnetText);
                const services = c(plan.serviceCidr);
                const dns = parseIp(plan.dnsServiceIp)!;
                assert.ok(dns > services.base + 1 && dns < services.base + cidrSize(services));
            }),
        );
    });
    it("every range that is not a valid private block start is refused with a message, never planned", () => {
        fc.assert(
            fc.property(
                fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })),
                ([base, prefix]) => {
                    const text = `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) & 255).join(".")}/${prefix}`;
                    const problem = addressPlanProblem(text);
                    if (problem === undefined) {
                        assert.doesNotThrow(() => planAddresses(text));
                    } else {
                        assert.throws(() => planAddresses(text), {
                            message: `valkey.azure.vnetCidr: ${problem}`,
                        });
                    }
                },
            ),
        );
    });
});
