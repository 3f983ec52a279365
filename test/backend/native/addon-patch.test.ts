import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AddonPatchError, addonPatchDigest, patchAddonSources } from '../../../src/backend/native/addon-patch.js';

const FILES = ['tfjs_backend.cc', 'tfjs_backend.h', 'tfjs_binding.cc'];
const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A package folder holding tfjs-node's own binding sources (kept aside by an earlier patch, if any). */
function pristinePackage(): string {
  const installed = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-node/package.json')), 'binding');
  const dir = mkdtempSync(path.join(tmpdir(), 'fer-addon-'));
  made.push(dir);
  mkdirSync(path.join(dir, 'binding'));
  for (const file of FILES) {
    const original = path.join(installed, `${file}.fer-original`);
    copyFileSync(existsSync(original) ? original : path.join(installed, file), path.join(dir, 'binding', file));
  }
  return dir;
}

const read = (dir: string, file: string) => readFileSync(path.join(dir, 'binding', file), 'utf8');

describe("fer's additions to tfjs-node's addon sources", () => {
  it('places each addition at its anchor and exports the digest', () => {
    const dir = pristinePackage();
    patchAddonSources(dir);
    const backend = read(dir, 'tfjs_backend.cc');
    expect(backend.indexOf('#include "fer_list_attrs.inc"')).toBeLessThan(backend.indexOf('void AssignOpAttr('));
    expect(backend).toMatch(/case TF_ATTR_STRING: \{\n.*fer:.*\n\s+if \(IsArray\(env, nstatus, &js_value\)\) \{\n\s+FerSetAttrStringList/);
    expect(backend).toMatch(/case TF_ATTR_TYPE: \{\n.*fer:.*\n\s+if \(IsArray\(env, nstatus, &js_value\)\) \{\n\s+FerSetAttrTypeList/);
    expect(read(dir, 'tfjs_binding.cc')).toContain(`AssignIntProperty(env, exports, "ferAddon", ${addonPatchDigest()});`);
    expect(read(dir, 'fer_list_attrs.inc')).toContain('TFE_OpSetAttrStringList');
  });

  it('starts from tfjs-node\'s own text each time: patching again changes nothing', () => {
    const dir = pristinePackage();
    patchAddonSources(dir);
    const once = FILES.map((f) => read(dir, f));
    patchAddonSources(dir);
    expect(FILES.map((f) => read(dir, f))).toEqual(once);
  });

  it('stops, naming the file, when an anchor is not where this tfjs-node version has it', () => {
    const dir = pristinePackage();
    const file = path.join(dir, 'binding', 'tfjs_binding.cc');
    writeFileSync(file, read(dir, 'tfjs_binding.cc').replace('EXPORT_INT_PROPERTY(TF_ATTR_SHAPE);', 'EXPORT_INT_PROPERTY(TF_ATTR_SHAPES);'));
    expect(() => patchAddonSources(dir)).toThrow(AddonPatchError);
    expect(() => patchAddonSources(dir)).toThrow(/tfjs_binding\.cc: .*missing.*not the one/);
  });
});
