import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../core/package.js';
import { FerError } from '../../core/errors.js';

/**
 * fer's additions to tfjs-node's addon, applied to the package's C++ sources before `fer setup
 * native` builds them:
 *   - attributes whose value is a list of strings or of types (native-addon/list-attrs.inc), so that
 *     fer can run TensorFlow's fused convolution, whose `fused_ops` and `TArgs` are such lists;
 *   - recording ops into a TensorFlow graph and registering it as a function of the eager context
 *     (native-addon/graph-functions.inc), so that fer can run a whole training step as one call;
 *   - `ferAddon` on the binding: a digest of these additions, so that fer (and `fer setup native`)
 *     can tell its current addon from tfjs-node's prebuilt one (which works too, without them) and
 *     from one built with other additions.
 * fer's code lives in a file of its own; tfjs-node's sources only gain the lines that include and
 * call it, each placed at an anchor checked to be there (the tfjs-node version is pinned, so a moved
 * anchor means a version fer was not built against: the setup stops and says so).
 */
const SOURCES = path.join(packageRoot, 'src', 'backend', 'native', 'addon');
const ADDITIONS = [
  { from: 'list-attrs.inc', to: 'fer_list_attrs.inc' },
  { from: 'graph-functions.inc', to: 'fer_graph_functions.inc' },
];

interface Insertion {
  file: string;
  anchor: string;
  text: string;
  where: 'before' | 'after';
}

const MARK = '// fer:';
/** Stands for the digest in the insertions (it cannot be part of what it digests). */
const DIGEST = '<digest>';

const INSERTIONS: Insertion[] = [
  {
    file: 'tfjs_backend.cc',
    anchor: 'void AssignOpAttr(napi_env env, TFE_Op *tfe_op, napi_value attr_value) {\n',
    text: `${MARK} lists of strings and of types as attribute values (fer setup native).\n#include "fer_list_attrs.inc"\n\n`,
    where: 'before',
  },
  {
    file: 'tfjs_backend.cc',
    anchor: '    case TF_ATTR_STRING: {\n',
    text: `      ${MARK} a list of strings (fer setup native).\n      if (IsArray(env, nstatus, &js_value)) {\n        FerSetAttrStringList(env, tfe_op, attr_name, js_value);\n        break;\n      }\n`,
    where: 'after',
  },
  {
    file: 'tfjs_backend.cc',
    anchor: '    case TF_ATTR_TYPE: {\n',
    text: `      ${MARK} a list of types (fer setup native).\n      if (IsArray(env, nstatus, &js_value)) {\n        FerSetAttrTypeList(env, tfe_op, attr_name, js_value);\n        break;\n      }\n`,
    where: 'after',
  },
  {
    file: 'tfjs_backend.h',
    anchor: '  napi_value GetNumOfTensors(napi_env env);\n',
    text: `\n  ${MARK} the eager context and tensors, for fer's graph functions (fer setup native).\n  TFE_Context *FerContext() { return tfe_context_; }\n  TFE_TensorHandle *FerHandle(int32_t id) {\n    auto entry = tfe_handle_map_.find(id);\n    return entry == tfe_handle_map_.end() ? nullptr : entry->second;\n  }\n`,
    where: 'after',
  },
  {
    file: 'tfjs_binding.cc',
    anchor: '/**\n * Called by Node to cleanup our instance data',
    text: `${MARK} training steps as TensorFlow functions (fer setup native).\n#include "fer_graph_functions.inc"\n\n`,
    where: 'before',
  },
  {
    file: 'tfjs_binding.cc',
    anchor: '      {"getNumOfTensors", nullptr, GetNumOfTensors, nullptr, nullptr,\n       nullptr, napi_default, nullptr},\n',
    text: [
      `      ${MARK} training steps as TensorFlow functions (fer setup native).\n`,
      ...['Begin', 'Abort', 'Capture', 'Constant', 'Op', 'Finish', 'Remove'].map(
        (name) => `      {"ferGraph${name}", nullptr, FerGraph${name}, nullptr, nullptr, nullptr, napi_default, nullptr},\n`,
      ),
    ].join(''),
    where: 'after',
  },
  {
    file: 'tfjs_binding.cc',
    anchor: '  EXPORT_INT_PROPERTY(TF_ATTR_SHAPE);\n',
    text: `  ${MARK} which of fer's additions this addon carries (fer setup native).\n  AssignIntProperty(env, exports, "ferAddon", ${DIGEST});\n`,
    where: 'after',
  },
];

export class AddonPatchError extends FerError {
  constructor(message: string) {
    super(message);
    this.name = 'AddonPatchError';
  }
}

let digest: number | undefined;

/**
 * A digest of fer's additions (a 28-bit number, to fit the addon's integer constants): in the built
 * addon's cache key and exported by the addon, so a change rebuilds it and a stale one is noticed.
 */
export function addonPatchDigest(): number {
  if (digest === undefined) {
    const hash = createHash('sha256');
    for (const { from } of ADDITIONS) hash.update(readFileSync(path.join(SOURCES, from)));
    for (const insertion of INSERTIONS) hash.update(JSON.stringify(insertion));
    digest = Number.parseInt(hash.digest('hex').slice(0, 7), 16);
  }
  return digest;
}

/** Applies fer's additions to the addon sources in `<packageDir>/binding`. */
export function patchAddonSources(packageDir: string): void {
  const binding = path.join(packageDir, 'binding');
  for (const { from, to } of ADDITIONS) copyFileSync(path.join(SOURCES, from), path.join(binding, to));
  const byFile = new Map<string, Insertion[]>();
  for (const insertion of INSERTIONS) byFile.set(insertion.file, [...(byFile.get(insertion.file) ?? []), insertion]);
  for (const [file, insertions] of byFile) {
    const target = path.join(binding, file);
    // Always from tfjs-node's own text, kept beside it the first time: a changed set of additions
    // replaces the previous one instead of piling onto it.
    const original = `${target}.fer-original`;
    if (!existsSync(original)) copyFileSync(target, original);
    let source = readFileSync(original, 'utf8');
    for (const insertion of insertions) {
      const at = source.indexOf(insertion.anchor);
      if (at < 0 || source.indexOf(insertion.anchor, at + 1) >= 0) {
        throw new AddonPatchError(
          `${target}: the place fer's addition goes (${JSON.stringify(insertion.anchor.trim())}) is ${at < 0 ? 'missing' : 'not unique'}; this tfjs-node version is not the one fer's addon patch was written for`,
        );
      }
      const position = insertion.where === 'before' ? at : at + insertion.anchor.length;
      source = source.slice(0, position) + insertion.text.replace(DIGEST, String(addonPatchDigest())) + source.slice(position);
    }
    writeFileSync(target, source);
  }
}
