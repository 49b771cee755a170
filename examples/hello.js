// opkit run examples/hello.js --allow-read=opkit-data --allow-write=opkit-data
//
// Writes a file, reads it back, stats it through the async entry and lists its
// folder: every call is an op of the table, on `opkit.ops`.
const { ops } = opkit;

ops.op_write_text_file_sync("opkit-data/hello.txt", "hello from opkit");
const text = ops.op_read_text_file_sync("opkit-data/hello.txt");
console.log(`read back: ${text}`);

const stat = await ops.op_stat_async("opkit-data/hello.txt");
console.log(`hello.txt is a file of ${stat.size} bytes: ${stat.is_file}`);

const names = ops.op_read_dir_sync("opkit-data").map((entry) => entry.name).sort();
console.log(`opkit-data holds: ${names.join(", ")}`);
