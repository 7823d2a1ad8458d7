import assert from "node:assert/strict";
import { RawSettings, SettingsError, resolveSettings } from "../../components/config";

/** The messages of the one SettingsError that resolving `raw` on `stack` throws; fails the test if none. */
export function problems(raw: RawSettings, stack = "dev"): string[] {
    try {
        resolveSettings(raw, stack);
    } catch (e) {
        assert.ok(e instanceof SettingsError, `expected a SettingsError, got ${e}`);
        return e.problems.map((p) => p.message);
    }
    assert.fail(`expected ${JSON.stringify(raw)} to be refused on stack ${stack}`);
}
