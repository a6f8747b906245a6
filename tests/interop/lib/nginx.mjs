// Debian's nginx as a gRPC load balancer (grpc_pass) on a free loopback port, in front of
// otlpd instances: the shape collectors are scaled out with. One process (no daemon, no master),
// its files in a temp dir, stopped by its own PID only; every wait is bounded.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx'];

export function nginxBinary() {
  for (const p of NGINX_CANDIDATES) {
    if (fs.existsSync(p)) return p;
  }
  throw new Error('nginx is not installed (scripts/setup.sh installs Debian\'s nginx)');
}

/** A loopback port nobody listens on right now (the OS picks it; nginx binds it next). */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts nginx proxying gRPC (HTTP/2 without TLS) on a free port to `upstreams`
 * (["127.0.0.1:port", ...]), round robin per request. Returns {port, url, pid, stop(), log()}.
 */
export async function startGrpcBalancer(upstreams, { readyTimeoutMs = 10000 } = {}) {
  const bin = nginxBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otlpd-nginx-'));
  const port = await freePort();
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} info;
events { worker_connections 256; }
http {
  access_log ${path.join(dir, 'access.log')};
  client_body_temp_path ${path.join(dir, 'body')};
  proxy_temp_path ${path.join(dir, 'proxy')};
  fastcgi_temp_path ${path.join(dir, 'fastcgi')};
  uwsgi_temp_path ${path.join(dir, 'uwsgi')};
  scgi_temp_path ${path.join(dir, 'scgi')};
  client_max_body_size 16m;
  upstream otlp_agents {
${upstreams.map((u) => `    server ${u} max_fails=0;`).join('\n')}
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${port} http2;
    location / {
      grpc_pass grpc://otlp_agents;
      grpc_next_upstream error timeout;
    }
  }
}
`;
  const confPath = path.join(dir, 'nginx.conf');
  fs.writeFileSync(confPath, conf);
  const check = spawnSync(bin, ['-t', '-p', dir, '-c', confPath], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the config: ${check.stderr}\n${conf}`);
  const child = spawn(bin, ['-p', dir, '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => {
    stderr += c.toString();
  });
  let exit = null;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    exit = { code, signal };
    resolve(exit);
  }));
  const log = () => {
    let errorLog = '';
    try {
      errorLog = fs.readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      // not written yet
    }
    return `nginx pid ${child.pid} port ${port} exit ${JSON.stringify(exit)}\n${stderr}\n${errorLog.slice(-4000)}`;
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await portOpen(port))) {
    if (exit || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not listen on ${port}: ${log()}`);
    }
    await sleep(50);
  }
  const stop = async () => {
    if (!exit) {
      child.kill('SIGQUIT'); // graceful: finish the requests in flight
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (!process.env.OTLPD_INTEROP_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  };
  return { port, url: `http://127.0.0.1:${port}`, pid: child.pid, stop, log, accessLog: () => {
    try {
      return fs.readFileSync(path.join(dir, 'access.log'), 'utf8');
    } catch {
      return '';
    }
  } };
}
