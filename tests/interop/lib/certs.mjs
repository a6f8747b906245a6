// Certificates for TLS interop tests, made with Debian's `openssl` command in a fresh temp dir
// (the same set as tests/common/tls_test_certs.h): ca, server (localhost, 127.0.0.1), client
// (clientAuth), other-ca. EC P-256 keys, valid for two days.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20000 });
}

function makeCa(dir, name, cn) {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

function makeLeaf(dir, name, cn, serial, ca, ext) {
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`,
    '-set_serial', serial, '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`]);
}

/** Makes the set; returns {dir, path(name), read(name), cleanup()}. */
export function makeCertificates() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otlpd-interop-certs-'));
  makeCa(dir, 'ca', 'otlpd test CA');
  makeCa(dir, 'other-ca', 'otlpd other CA');
  makeLeaf(dir, 'server', 'otlpd test server', '0x1001', 'ca',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  makeLeaf(dir, 'client', 'otlpd test client', '0x2001', 'ca',
    'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  return {
    dir,
    path: (name) => path.join(dir, name),
    read: (name) => fs.readFileSync(path.join(dir, name)),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
