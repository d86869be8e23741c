// operations.sh: the operationIds of an OpenAPI document against the keys of the `operations`
// interface of the schema.d.ts openapi-typescript generated. No dependency but Node.
import { readFileSync } from "node:fs";

const [docPath, schemaPath] = process.argv.slice(2);
const say = (text) => console.error(`clients/typescript/operations.sh: ${text}`);

const doc = JSON.parse(readFileSync(docPath, "utf8"));
const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const inDoc = new Set();
for (const item of Object.values(doc.paths ?? {})) {
  for (const method of methods) {
    const id = item?.[method]?.operationId;
    if (id) inDoc.add(id);
  }
}

// openapi-typescript writes `export interface operations {`, one `    name: {` line per
// operation at four spaces, and a closing `}` alone at the start of a line.
const lines = readFileSync(schemaPath, "utf8").split("\n");
const start = lines.indexOf("export interface operations {");
const inClient = new Set();
if (start >= 0) {
  for (const line of lines.slice(start + 1)) {
    if (line === "}") break;
    const m = /^ {4}"?([A-Za-z0-9_$.-]+)"?: \{$/.exec(line);
    if (m) inClient.add(m[1]);
  }
}

const missing = [...inDoc].filter((id) => !inClient.has(id)).sort();
const extra = [...inClient].filter((id) => !inDoc.has(id)).sort();
if (inDoc.size === 0) {
  say(`no operationId in ${docPath}`);
  process.exit(1);
}
if (missing.length || extra.length) {
  if (missing.length) say(`missing from the TypeScript client: ${missing.join(", ")}`);
  if (extra.length) say(`in the TypeScript client but not in the document: ${extra.join(", ")}`);
  say("run clients/generate.sh");
  process.exit(1);
}
say(`all ${inDoc.size} operations of the document are in the TypeScript client, and no other`);
