// validate.mjs - checks Kubernetes manifests offline against the API's own
// schemas, as packaged by the npm package kubernetes-models (generated from
// Kubernetes' OpenAPI definitions): types, required fields and enums
// (its validate()), and, which those schemas do not do, unknown fields: every
// key must be a property of its type, read from the package's type
// declarations.  No cluster is needed; what only an API server checks
// (admission, defaults, names taken) is not checked.
//
//   node validate.mjs MODELS_DIR FILE.json...
// where each FILE.json holds the list of objects of one manifest (check.sh
// converts the YAML).  Prints "ok: ..." or "FAIL: ..." per object; exit 1 on
// any failure.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modelsDir, ...files] = process.argv.slice(2);
const kindModule = {
  "apps/v1 DaemonSet": ["apps/v1/DaemonSet", "DaemonSet"],
  "v1 Service": ["v1/Service", "Service"],
  "v1 ConfigMap": ["v1/ConfigMap", "ConfigMap"],
};

// The declared properties of the interface in one .d.ts file, and for each
// the file of its type when that is another model (or an array of one).
const declCache = new Map();
function declarations(dtsFile) {
  if (declCache.has(dtsFile)) return declCache.get(dtsFile);
  const text = fs.readFileSync(dtsFile, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/import \{ (\w+) \} from "(\.{1,2}\/[^"]+)\.js";/g))
    imports.set(m[1], path.resolve(path.dirname(dtsFile), m[2] + ".d.ts"));
  const iface = text.match(/export interface \w+[^{]*\{([\s\S]*?)\n\}/);
  const props = new Map();
  if (iface) {
    // One property a line; a map type opens a brace ("key"?: {) and is
    // not followed into.
    for (const m of iface[1].matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) {
      const type = m[2];
      const ref = type.match(/^(?:Array<)?(\w+)>?$/);
      props.set(m[1], {
        file: ref && imports.has(ref[1]) ? imports.get(ref[1]) : null,
        array: type.startsWith("Array<"),
      });
    }
  }
  const d = { props, open: !iface };
  declCache.set(dtsFile, d);
  return d;
}

function unknownFields(value, dtsFile, where, out) {
  if (value === null || typeof value !== "object") return;
  const d = declarations(dtsFile);
  if (d.open) return;
  for (const [key, v] of Object.entries(value)) {
    const p = d.props.get(key);
    if (!p) {
      out.push(`${where}.${key}: no such field`);
      continue;
    }
    if (!p.file) continue;
    if (p.array && Array.isArray(v)) v.forEach((e, i) => unknownFields(e, p.file, `${where}.${key}[${i}]`, out));
    else unknownFields(v, p.file, `${where}.${key}`, out);
  }
}

let failed = 0;
for (const file of files) {
  const objects = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const obj of objects) {
    const id = `${path.basename(file, ".json")}: ${obj.kind}/${obj.metadata?.name}`;
    const entry = kindModule[`${obj.apiVersion} ${obj.kind}`];
    if (!entry) {
      console.log(`FAIL: ${id}: no schema known here for ${obj.apiVersion} ${obj.kind}`);
      failed++;
      continue;
    }
    const mod = await import(pathToFileURL(path.join(modelsDir, entry[0] + ".js")).href);
    const problems = [];
    try {
      new mod[entry[1]](obj).validate();
    } catch (e) {
      problems.push(e.message);
    }
    unknownFields(obj, path.join(modelsDir, entry[0] + ".d.ts"), obj.kind, problems);
    if (problems.length) {
      console.log(`FAIL: ${id}: ${problems.join("; ")}`);
      failed++;
    } else {
      console.log(`ok: ${id}: valid against the ${obj.apiVersion} ${obj.kind} schema, no unknown field`);
    }
  }
}
process.exit(failed ? 1 : 0);
