// Independent MCAP check for shmsnap's recording tests: reads a file with the MCAP
// reference TypeScript library (@mcap/core, with @mcap/support's zstd/lz4
// decompressors), validating every CRC, and prints one JSON object describing what
// it found. Usage: node check_mcap.cjs FILE [--partial] [--dump-json DIR]
//   --partial    the file may be cut short: report what the stream reader yields
//                before the data runs out instead of requiring the footer.
//   --dump-json  for each json channel write DIR/<id>.schema.json (its JSON Schema)
//                and DIR/<id>.instances.json (every message, parsed).
"use strict";
const fs = require("fs");
const path = require("path");
const { McapStreamReader, McapIndexedReader } = require("@mcap/core");
const { loadDecompressHandlers } = require("@mcap/support");

const MAGIC = Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);

function bigintsToNumbers(value) {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v instanceof Map ? Object.fromEntries(v) : v)));
}

async function main() {
  const args = process.argv.slice(2);
  const file = args[0];
  const partial = args.includes("--partial");
  const dumpIndex = args.indexOf("--dump-json");
  const dumpDir = dumpIndex >= 0 ? args[dumpIndex + 1] : undefined;
  const bytes = fs.readFileSync(file);
  const decompressHandlers = await loadDecompressHandlers();
  const out = {
    file,
    leadingMagic: bytes.subarray(0, 8).equals(MAGIC),
    trailingMagic: bytes.length >= 16 && bytes.subarray(bytes.length - 8).equals(MAGIC),
    complete: false,
    messages: 0,
    channels: {},
    schemas: {},
    metadata: [],
    statistics: null,
    indexedMessages: null,
  };
  const instances = {};
  const schemaData = {};

  const reader = new McapStreamReader({ decompressHandlers, validateCrcs: true });
  reader.append(bytes);
  let lastLogTime = -1n;
  for (;;) {
    const record = reader.nextRecord();
    if (record === undefined) break;
    switch (record.type) {
      case "Schema":
        out.schemas[record.id] = { name: record.name, encoding: record.encoding, bytes: record.data.length };
        schemaData[record.id] = Buffer.from(record.data).toString("utf8");
        break;
      case "Channel":
        // The summary repeats every channel: keep the counts of the first declaration.
        if (out.channels[record.id] !== undefined) break;
        out.channels[record.id] = {
          topic: record.topic,
          messageEncoding: record.messageEncoding,
          schemaId: record.schemaId,
          count: 0,
          sequences: [],
          lengths: [],
        };
        if (record.messageEncoding === "json") instances[record.id] = [];
        break;
      case "Message": {
        const channel = out.channels[record.channelId];
        if (channel === undefined) throw new Error(`message on undeclared channel ${record.channelId}`);
        channel.count++;
        channel.sequences.push(record.sequence);
        channel.lengths.push(record.data.length);
        out.messages++;
        if (record.logTime < lastLogTime) out.logTimeDecreases = true;
        lastLogTime = record.logTime;
        if (instances[record.channelId] !== undefined)
          instances[record.channelId].push(JSON.parse(Buffer.from(record.data).toString("utf8")));
        break;
      }
      case "Metadata":
        out.metadata.push({ name: record.name, metadata: Object.fromEntries(record.metadata) });
        break;
      case "Statistics":
        out.statistics = bigintsToNumbers(record);
        break;
      case "Footer":
        out.complete = true;
        break;
      default:
        break;
    }
  }
  if (!partial && !reader.done()) throw new Error("the stream reader did not reach the end of the file");

  if (!partial) {
    // The indexed reader: summary, chunk indexes and message indexes.
    const readable = {
      size: async () => BigInt(bytes.length),
      read: async (offset, length) => bytes.subarray(Number(offset), Number(offset + length)),
    };
    const indexed = await McapIndexedReader.Initialize({ readable, decompressHandlers });
    let count = 0;
    for await (const _message of indexed.readMessages()) count++;
    out.indexedMessages = count;
    out.indexedChunks = indexed.chunkIndexes.length;
    out.indexedStatistics = indexed.statistics ? bigintsToNumbers(indexed.statistics) : null;
  }

  if (dumpDir !== undefined) {
    for (const [id, list] of Object.entries(instances)) {
      const schemaId = out.channels[id].schemaId;
      fs.writeFileSync(path.join(dumpDir, `${id}.instances.json`), JSON.stringify(list));
      fs.writeFileSync(path.join(dumpDir, `${id}.schema.json`), schemaData[schemaId]);
    }
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((error) => {
  process.stderr.write(`check_mcap: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
