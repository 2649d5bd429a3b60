// Reads WARC files with warcio.js, a reader takedown does not share code
// with, and checks every record: WARC 1.1, a record ID, a date, a
// Content-Length equal to the block's length, a SHA-256 block digest that
// matches the block, and for request and response records a payload
// digest (when given) that matches the payload (the block after the HTTP
// headers). Prints one line per file; exits 1 on the first bad record.
import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";
import { WARCParser } from "warcio";

function digest(buf) {
  return "sha256:" + createHash("sha256").update(buf).digest("hex");
}

let bad = 0;
for (const file of process.argv.slice(2)) {
  const parser = new WARCParser(createReadStream(file), { parseHttp: false });
  const types = {};
  let n = 0;
  for await (const record of parser) {
    n++;
    const h = record.warcHeaders.headers;
    const where = `${file}: record ${n} (${record.warcType})`;
    const block = Buffer.from(await record.readFully(false));
    const fail = (msg) => { console.error(`${where}: ${msg}`); bad++; };
    if (record.warcHeaders.protocol !== "WARC/1.1") fail(`version ${record.warcHeaders.protocol}`);
    if (!h.get("WARC-Record-ID")) fail("no WARC-Record-ID");
    if (!h.get("WARC-Date")) fail("no WARC-Date");
    if (Number(h.get("Content-Length")) !== block.length) fail(`Content-Length ${h.get("Content-Length")}, block ${block.length}`);
    const bd = h.get("WARC-Block-Digest");
    if (!bd || bd !== digest(block)) fail(`block digest ${bd}, computed ${digest(block)}`);
    if (record.warcType === "request" || record.warcType === "response") {
      if (!h.get("WARC-Target-URI")) fail("no WARC-Target-URI");
      const end = block.indexOf("\r\n\r\n");
      if (end < 0) fail("no end of the HTTP headers");
      const pd = h.get("WARC-Payload-Digest");
      if (record.warcType === "response" && !pd) fail("no WARC-Payload-Digest");
      if (pd && pd !== digest(block.subarray(end + 4))) fail(`payload digest ${pd}, computed ${digest(block.subarray(end + 4))}`);
    }
    types[record.warcType] = (types[record.warcType] || 0) + 1;
  }
  if (n === 0) { console.error(`${file}: no record`); bad++; }
  console.log(`${file}: ${n} records ${JSON.stringify(types)}`);
}
process.exit(bad ? 1 : 0);
