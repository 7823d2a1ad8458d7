/**
 * What an Azure VM size name says about the VM: premium storage, a local temp disk, ephemeral OS disk support.
 *
 * Pure: reads the size name (`Standard_E64ds_v5`), no cloud package. Azure encodes capabilities in lower-case
 * letters after the vCPU count: `d` a local temp disk, `s` premium storage. Only what the Valkey pools need is
 * derived here; sizes outside the D/E v4-v5 families get the safe answer (no temp disk, managed OS disk).
 */

/** Capabilities of one VM size, as far as its name tells them. */
export interface VmSizeFeatures {
    /** The size as given. */
    name: string;
    /** Family letters: `E`, `D`, `M`... */
    family: string;
    /** vCPUs of the full size (the first number; `E32-16ds` is an E32 with 16 cores enabled). */
    vcpus: number;
    /** Feature letters after the vCPU count, e.g. `ds`. */
    features: string;
    /** Generation (`_v5` -> 5), or 1 when the name has none. */
    version: number;
    /** Whether Premium SSD (and Premium SSD v2) disks can be attached: the `s` variants only. */
    premiumStorage: boolean;
    /** Size of the local temp disk in GiB, when the name says there is one and its size is known. */
    tempDiskGiB?: number;
    /** Whether the OS disk can be ephemeral (placed on the temp disk). */
    ephemeralOsDisk: boolean;
}

const SIZE = /^Standard_([A-Z]+)(\d+)(?:-\d+)?([a-z]*)(?:_v(\d+))?$/;

/**
 * Reads the capabilities of a VM size from its name, or undefined when the name is not of the
 * `Standard_<family><vcpus>[<features>][_v<n>]` form.
 */
export function vmSizeFeatures(name: string): VmSizeFeatures | undefined {
    const m = SIZE.exec(name);
    if (!m) return undefined;
    const [, family, cpus, features, version] = m;
    const vcpus = Number(cpus);
    const v = version === undefined ? 1 : Number(version);
    // D and E v4/v5 sizes with a temp disk carry 37.5 GiB of it per vCPU (E2ds_v5: 75 GiB, E64ds_v5: 2400 GiB).
    const knownTempDisk =
        (family === "D" || family === "E") && (v === 4 || v === 5) && features.includes("d");
    const tempDiskGiB = knownTempDisk ? vcpus * 37.5 : undefined;
    return {
        name,
        family,
        vcpus,
        features,
        version: v,
        premiumStorage: features.includes("s"),
        tempDiskGiB,
        ephemeralOsDisk: tempDiskGiB !== undefined && tempDiskGiB >= MIN_OS_DISK_GIB,
    };
}

/** Smallest OS disk AKS accepts, GiB. */
export const MIN_OS_DISK_GIB = 30;
/** OS disk size of the nodes when it is a managed disk (AKS's default), GiB. */
export const MANAGED_OS_DISK_GIB = 128;

/**
 * The OS disk of a pool's nodes: ephemeral on the temp disk where the size has one (faster node start and
 * re-image, no OS disk to pay for), as large as the temp disk allows up to 128 GiB; a managed disk otherwise.
 */
export function osDiskFor(name: string): { type: "Ephemeral" | "Managed"; sizeGB: number } {
    const f = vmSizeFeatures(name);
    if (f?.ephemeralOsDisk && f.tempDiskGiB !== undefined) {
        return {
            type: "Ephemeral",
            sizeGB: Math.min(MANAGED_OS_DISK_GIB, Math.floor(f.tempDiskGiB)),
        };
    }
    return { type: "Managed", sizeGB: MANAGED_OS_DISK_GIB };
}
