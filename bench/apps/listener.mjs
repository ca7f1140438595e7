// The node listener app `(req, res)`: tsunicorn serves it directly, and every node contender
// (single, cluster, reusePort, PM2) wraps it in `http.createServer`.
import { BIG, block, HELLO, msParam, sleep, spin } from './routes.mjs';

const TEXT = { 'content-type': 'text/plain' };
const BINARY = { 'content-type': 'application/octet-stream' };
const JSON_TYPE = { 'content-type': 'application/json' };

export default function app(req, res) {
  const url = req.url;
  if (url === '/') {
    res.writeHead(200, TEXT);
    res.end(HELLO);
  } else if (url === '/64k') {
    res.writeHead(200, BINARY);
    res.end(BIG);
  } else if (url === '/echo' && req.method === 'POST') {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let body;
      try {
        body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        res.writeHead(400, TEXT);
        res.end('bad json');
        return;
      }
      res.writeHead(200, JSON_TYPE);
      res.end(body);
    });
  } else if (url.startsWith('/cpu')) {
    spin(msParam(url));
    res.writeHead(200, TEXT);
    res.end('cpu');
  } else if (url.startsWith('/block')) {
    block(msParam(url));
    res.writeHead(200, TEXT);
    res.end('block');
  } else if (url.startsWith('/sleep')) {
    sleep(msParam(url)).then(() => {
      res.writeHead(200, TEXT);
      res.end('sleep');
    });
  } else {
    res.writeHead(404, TEXT);
    res.end('not found');
  }
}
