// yamlls.js drives yaml-language-server (the engine of VS Code's YAML
// extension) over the Language Server Protocol, as the editor does: it
// opens each file given and prints, once the server has published them,
// the diagnostics of each file as JSON lines {"file": …, "line": …,
// "message": …}, then "done FILE N" with each file's count.
//
//   node yamlls.js SERVER_SCRIPT FILE...
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [server, ...args] = process.argv.slice(2);
const files = args.map(f => path.resolve(f));
const srv = spawn(process.execPath, [server, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
let buf = Buffer.alloc(0);
let nextID = 0;
const pending = new Map();
const diags = new Map();
let allPublished;
const published = new Promise(r => { allPublished = r; });

function send(msg) {
  const s = JSON.stringify(Object.assign({ jsonrpc: '2.0' }, msg));
  srv.stdin.write(`Content-Length: ${Buffer.byteLength(s)}\r\n\r\n${s}`);
}
function request(method, params) {
  return new Promise(r => { const id = ++nextID; pending.set(id, r); send({ id, method, params }); });
}
srv.stdout.on('data', d => {
  buf = Buffer.concat([buf, d]);
  for (;;) {
    const h = buf.indexOf('\r\n\r\n');
    if (h < 0) return;
    const len = +/Content-Length: (\d+)/i.exec(buf.slice(0, h).toString())[1];
    if (buf.length < h + 4 + len) return;
    const msg = JSON.parse(buf.slice(h + 4, h + 4 + len).toString());
    buf = buf.slice(h + 4 + len);
    if (msg.id !== undefined && pending.has(msg.id) && !msg.method) {
      pending.get(msg.id)(msg.result);
      pending.delete(msg.id);
    } else if (msg.method === 'textDocument/publishDiagnostics') {
      diags.set(msg.params.uri, msg.params.diagnostics);
      if (files.every(f => diags.has('file://' + f))) allPublished();
    } else if (msg.id !== undefined && msg.method) {
      // The server asks for its settings: validation on, no SchemaStore
      // (no network), as a user with the modeline needs nothing else.
      const result = msg.method === 'workspace/configuration'
        ? msg.params.items.map(() => ({ validate: true, schemaStore: { enable: false } }))
        : null;
      send({ id: msg.id, result });
    }
  }
});

(async () => {
  await request('initialize', { processId: process.pid, rootUri: null, capabilities: { workspace: { configuration: true } } });
  send({ method: 'initialized', params: {} });
  send({ method: 'workspace/didChangeConfiguration', params: { settings: { yaml: { validate: true, schemaStore: { enable: false } } } } });
  for (const f of files) {
    send({ method: 'textDocument/didOpen', params: { textDocument: { uri: 'file://' + f, languageId: 'yaml', version: 1, text: fs.readFileSync(f, 'utf8') } } });
  }
  await published;
  for (const f of files) {
    const d = diags.get('file://' + f);
    for (const x of d) console.log(JSON.stringify({ file: f, line: x.range.start.line + 1, message: x.message }));
    console.log(`done ${f} ${d.length}`);
  }
  srv.kill();
  process.exit(0);
})();
