// Validates an OpenRPC document (opkit's docs/openrpc.json, or what a server answered
// to rpc.discover) against the official OpenRPC meta-schema, and each method's example
// call against the method's params schemas. Exits 1 and names each problem otherwise.
//
//   node clients/validate-openrpc.mjs docs/openrpc.json
import { readFileSync } from "node:fs";
import Ajv from "ajv"; // draft-07, the dialect of the meta-schema and of opkit's schemas
import addFormats from "ajv-formats";
import metaSchemaModule from "@open-rpc/meta-schema";
// What the OpenRPC meta-schema refers to for a JSON Schema (https://meta.json-schema.tools/).
import jsonSchemaModule from "@json-schema-tools/meta-schema";

const path = process.argv[2];
if (!path) {
  console.error("usage: node validate-openrpc.mjs DOCUMENT.json");
  process.exit(2);
}
const document = JSON.parse(readFileSync(path, "utf8"));

function newAjv() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // schemars' integer formats: the bounds are in minimum/maximum already.
  for (const format of ["int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float", "double"]) {
    ajv.addFormat(format, true);
  }
  return ajv;
}

const problems = [];

// Both meta-schemas name a `$schema` ajv does not know; their content is draft 7.
const strip = ({ $schema, ...schema }) => schema;
const metaAjv = newAjv();
const { $id, ...jsonSchema } = strip(jsonSchemaModule.default ?? jsonSchemaModule.jsonSchema);
// The OpenRPC meta-schema refers to it with and without the final slash.
metaAjv.addSchema(jsonSchema, $id);
metaAjv.addSchema(jsonSchema, $id.replace(/\/$/, ""));
const validateDocument = metaAjv.compile(strip(metaSchemaModule.default ?? metaSchemaModule.openrpcDocument));
if (!validateDocument(document)) {
  for (const err of validateDocument.errors) {
    problems.push(`meta-schema: ${err.instancePath || "/"} ${err.message} ${JSON.stringify(err.params)}`);
  }
}

const ajv = newAjv();
let examples = 0;
for (const method of document.methods ?? []) {
  const params = new Map((method.params ?? []).map((p) => [p.name, p]));
  if ((method.examples ?? []).length === 0) {
    problems.push(`${method.name}: no example call`);
  }
  for (const example of method.examples ?? []) {
    const given = new Set();
    for (const { name, value } of example.params ?? []) {
      given.add(name);
      const param = params.get(name);
      if (!param) {
        problems.push(`${method.name}: example "${example.name}" passes "${name}", which is not a param`);
        continue;
      }
      const validate = ajv.compile(param.schema);
      if (!validate(value)) {
        problems.push(
          `${method.name}: example "${example.name}": ${name} = ${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`,
        );
      }
    }
    for (const [name, param] of params) {
      if (param.required && !given.has(name)) {
        problems.push(`${method.name}: example "${example.name}" leaves out the required "${name}"`);
      }
    }
    examples += 1;
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  console.error(`${path}: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`${path}: valid OpenRPC ${document.openrpc}, ${document.methods.length} methods, ${examples} example calls valid`);
