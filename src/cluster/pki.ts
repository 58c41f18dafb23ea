/**
 * A small per-cluster certificate authority.
 *
 * Secure by default: the Docker endpoint a swarm manager publishes on 127.0.0.1 speaks TLS
 * with certificates from this CA (the host's `docker` CLI connects with DOCKER_TLS_VERIFY=1
 * and a client certificate), and the bundled Kubernetes API server uses the same CA for its
 * serving certificate and for client certificates (kubeconfig user `O=system:masters`, node
 * agents `O=system:nodes, CN=system:node:NAME`).
 *
 * Keys are ECDSA P-256, signatures ECDSA with SHA-256 (accepted by Docker's Go TLS, kubectl,
 * Node and OpenSSL). Private keys are PKCS#8 PEM ("PRIVATE KEY"). Certificates are built with
 * @peculiar/x509 over Node's WebCrypto, so no openssl binary is needed on the host.
 *
 * The PEM strings a caller gets back hold secrets (every `keyPem`): write them with mode 0600
 * and never log them. Nothing in this module logs, and no error message carries key material.
 */

import { X509Certificate as NodeX509Certificate, createPrivateKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

export interface KeyPairPem {
  certPem: string;
  /** PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). A secret. */
  keyPem: string;
}

/** The cluster CA: its self-signed certificate and its private key (a secret). */
export interface CertificateAuthority extends KeyPairPem {}

export interface ServerCertOptions {
  commonName: string;
  /** Subject alternative names of type DNS. At least one DNS name or IP address is required. */
  dnsNames: string[];
  /** Subject alternative names of type IP (IPv4 or IPv6 text form). */
  ipAddresses: string[];
  validityDays?: number;
}

export interface ClientCertOptions {
  /** The user name for Kubernetes (e.g. `kubernetes-admin`, `system:node:worker1`). */
  commonName: string;
  /** Organizations, in order; Kubernetes reads them as groups (e.g. `system:masters`). */
  organizations?: string[];
  validityDays?: number;
}

export interface CertificateSummary {
  /** RDNs in certificate order, joined by ", " (e.g. `O=system:masters, CN=kubernetes-admin`). */
  subject: string;
  issuer: string;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
}

const CA_VALIDITY_DAYS = 10 * 365;
/** Leaf certificates: a lab cluster outlives a classroom year, so 5 years rather than 1. */
const LEAF_VALIDITY_DAYS = 5 * 365;
/** notBefore is backdated so that a node whose clock is a little behind the host's accepts it. */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** The WebCrypto instance handed to @peculiar/x509 explicitly, rather than set in its global provider. */
const crypto = webcrypto;

// ---------------------------------------------------------------------------------------------
// Loading @peculiar/x509
// ---------------------------------------------------------------------------------------------

type X509 = typeof import('@peculiar/x509');

let x509Loading: Promise<X509> | undefined;

/**
 * Imports @peculiar/x509 once, on first use (it costs ~70 ms, and most commands never need
 * it). Its tsyringe dependency requires the Reflect metadata polyfill to be loaded first.
 */
function loadX509(): Promise<X509> {
  x509Loading ??= import('reflect-metadata')
    .then(() => import('@peculiar/x509'))
    .catch((err: unknown) => {
      x509Loading = undefined;
      throw new Error('cannot load @peculiar/x509', { cause: err });
    });
  return x509Loading;
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * A new self-signed CA: basicConstraints CA:true (pathlen 0, it signs only leaves) critical,
 * keyUsage keyCertSign|cRLSign critical, subjectKeyIdentifier. Valid 10 years by default.
 */
export async function createCertificateAuthority(
  commonName: string,
  options: { validityDays?: number } = {},
): Promise<CertificateAuthority> {
  requireName('commonName', commonName);
  const x509 = await loadX509();
  const keys = await generateKeyPair();
  const { notBefore, notAfter } = validity(options.validityDays ?? CA_VALIDITY_DAYS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      name: [{ CN: [commonName] }],
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: exportPrivateKey(keys.privateKey) };
}

/**
 * A serving certificate signed by `ca`: SANs from `dnsNames` and `ipAddresses`, EKU serverAuth,
 * keyUsage digitalSignature|keyEncipherment. Valid 5 years by default, never past the CA.
 */
export async function issueServerCertificate(ca: CertificateAuthority, options: ServerCertOptions): Promise<KeyPairPem> {
  requireName('commonName', options.commonName);
  if (options.dnsNames.length === 0 && options.ipAddresses.length === 0) {
    // Go (Docker, kubectl) ignores the CN for host names: without a SAN nothing can verify it.
    throw new Error('a server certificate needs at least one DNS name or IP address');
  }
  for (const name of options.dnsNames) requireName('dnsNames[]', name);
  for (const ip of options.ipAddresses) requireIpAddress(ip);
  const x509 = await loadX509();
  return issueLeaf(x509, ca, {
    subject: [{ CN: [options.commonName] }],
    validityDays: options.validityDays,
    extendedKeyUsage: OID_SERVER_AUTH,
    extraExtensions: [
      new x509.SubjectAlternativeNameExtension([
        ...options.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...options.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
}

/**
 * A client certificate signed by `ca`: EKU clientAuth, keyUsage digitalSignature|keyEncipherment.
 * The subject lists the organizations in order, then the common name (`O=a, O=b, CN=name`),
 * the order Go's crypto/x509 and kubeadm write them in.
 */
export async function issueClientCertificate(ca: CertificateAuthority, options: ClientCertOptions): Promise<KeyPairPem> {
  requireName('commonName', options.commonName);
  const organizations = options.organizations ?? [];
  for (const org of organizations) requireName('organizations[]', org);
  const x509 = await loadX509();
  return issueLeaf(x509, ca, {
    subject: [...organizations.map((org) => ({ O: [org] })), { CN: [options.commonName] }],
    validityDays: options.validityDays,
    extendedKeyUsage: OID_CLIENT_AUTH,
    extraExtensions: [],
  });
}

/** What a certificate says, read with node:crypto (for `doctor` and debugging). */
export function certificateSummary(certPem: string): CertificateSummary {
  const cert = new NodeX509Certificate(certPem);
  const { dnsNames, ipAddresses } = parseSubjectAltName(cert.subjectAltName);
  return {
    subject: joinDistinguishedName(cert.subject),
    issuer: joinDistinguishedName(cert.issuer),
    notAfter: new Date(cert.validTo),
    dnsNames,
    ipAddresses,
  };
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

type JsonName = Array<Record<string, string[]>>;

interface LeafSpec {
  subject: JsonName;
  validityDays: number | undefined;
  extendedKeyUsage: string;
  extraExtensions: import('@peculiar/x509').Extension[];
}

async function issueLeaf(x509: X509, ca: CertificateAuthority, spec: LeafSpec): Promise<KeyPairPem> {
  const caSigningKey = await importCaKey(ca); // checks the CA first, with clear errors
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await generateKeyPair();
  const { notBefore, notAfter } = validity(spec.validityDays ?? LEAF_VALIDITY_DAYS);
  // The authority key identifier must equal the CA's subject key identifier, however that was made.
  const caSubjectKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const authorityKeyId = caSubjectKeyId
    ? new x509.AuthorityKeyIdentifierExtension(caSubjectKeyId.keyId, false)
    : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, crypto);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: spec.subject,
      // The CA's subject exactly as encoded, so issuer/subject match byte for byte (Go compares raw names).
      issuer: caCert.subjectName,
      notBefore,
      // A leaf never outlives its CA.
      notAfter: notAfter.getTime() > caCert.notAfter.getTime() ? caCert.notAfter : notAfter,
      publicKey: keys.publicKey,
      signingKey: caSigningKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([spec.extendedKeyUsage], false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        authorityKeyId,
        ...spec.extraExtensions,
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: exportPrivateKey(keys.privateKey) };
}

async function generateKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

function exportPrivateKey(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key)
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** The CA's private key as a WebCrypto signing key, after checking it belongs to the CA certificate. */
async function importCaKey(ca: CertificateAuthority): Promise<webcrypto.CryptoKey> {
  let caCert: NodeX509Certificate;
  let key: KeyObject;
  try {
    caCert = new NodeX509Certificate(ca.certPem);
    key = createPrivateKey(ca.keyPem); // also reads SEC1 ("EC PRIVATE KEY") PEM
  } catch (err) {
    throw new Error('the cluster CA certificate or key cannot be read', { cause: err });
  }
  if (!caCert.ca) throw new Error(`the certificate "${caCert.subject}" is not a CA certificate`);
  if (!caCert.checkPrivateKey(key)) throw new Error(`the CA key does not belong to the CA certificate "${caCert.subject}"`);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('the cluster CA key must be an ECDSA P-256 key');
  }
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return crypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, ['sign']);
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(days) || days <= 0) throw new RangeError(`validityDays must be a positive number (got ${days})`);
  const now = Date.now();
  // Whole seconds: X.509 times have no fractions, and round-tripped dates then compare equal.
  const notBefore = new Date(Math.floor((now - BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(Math.floor((now + days * DAY_MS) / 1000) * 1000);
  return { notBefore, notAfter };
}

/** 128 random bits as hex; @peculiar/x509 prepends a zero octet when needed so the DER INTEGER stays positive. */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  if (bytes.every((b) => b === 0)) bytes[15] = 1; // serial numbers must be positive, not zero
  return bytes.toString('hex');
}

function requireName(what: string, value: string): void {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`${what} must be a non-empty string`);
}

function requireIpAddress(ip: string): void {
  const family = isIP(ip);
  if (family === 0) throw new TypeError(`ipAddresses[] must hold IP addresses (got "${ip}")`);
  // @peculiar/x509 parses IPv6 only in hexadecimal groups, not the dotted IPv4-in-IPv6 form.
  if (family === 6 && ip.includes('.')) throw new TypeError(`write IPv6 address "${ip}" in hexadecimal groups only`);
}

/** node:crypto prints names one RDN per line; JSON-quoted when a value has special characters. */
function joinDistinguishedName(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

/** Parses node:crypto's `subjectAltName` ("DNS:a, IP Address:127.0.0.1", values JSON-quoted when ambiguous). */
function parseSubjectAltName(text: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  if (!text) return { dnsNames, ipAddresses };
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const match of text.matchAll(entry)) {
    const [, type, raw = ''] = match;
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (type === 'DNS') dnsNames.push(value);
    else if (type === 'IP Address') ipAddresses.push(compressIpv6(value));
  }
  return { dnsNames, ipAddresses };
}

/** node:crypto prints IPv6 SANs in full (`0:0:0:0:0:0:0:1`); show them the usual way (`::1`). */
function compressIpv6(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}
