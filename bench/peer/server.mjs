// node-oidc-provider as the benchmark peer: one client `bench` allowed client credentials, the
// code flow (PKCE S256, development login and consent pages that accept any login) and rotating
// refresh tokens; ES256 JWT access tokens; the default in-memory store.
//
//   PORT=0 PEER_SECRET=… node server.mjs   → prints "peer ready on 127.0.0.1:PORT"
import { createServer } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const freePort = () => new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

const port = Number(process.env.PORT) || await freePort();
const secret = process.env.PEER_SECRET || 'bench-secret';
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'peer' };
const resource = 'http://127.0.0.1/api';

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench',
    client_secret: secret,
    grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [jwk] },
  scopes: ['openid', 'offline_access', 'wallet:read'],
  pkce: { required: () => true },
  features: {
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'wallet:read',
        audience: resource,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  issueRefreshToken: async () => true,
  rotateRefreshToken: true,
  ttl: { AccessToken: 3600, ClientCredentials: 3600 },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`peer ready on 127.0.0.1:${server.address().port}`);
});
