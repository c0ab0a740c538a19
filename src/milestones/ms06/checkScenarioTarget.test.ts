import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/loadConfig.ts';
import { ConfigError } from '../../errors.ts';
import { scenarioFromFlags } from '../../faults/scenario.ts';
import { checkScenarioTarget } from './checkScenarioTarget.ts';
import { remoteTargets, withProxiedEndpoints } from './remoteTargets.ts';

const REMOTE = {
  VANA_TARGET: 'remote',
  VANA_RPC_URLS: 'https://rpc.example/v2/secret-key,https://rpc2.example',
  VANA_PERMISSIONS_ADDRESS: '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF',
  VANA_GRANTEE_ID: '1',
  VANA_PERSONAL_SERVER_URL: 'https://ps.example',
  VANA_STORAGE_URL: 'https://files.example',
  VANA_API_URL: 'https://app.example',
  VANA_MNEMONIC: 'test test test test test test test test test test test junk',
};

const config = (env: Record<string, string> = {}) => loadConfig({ env });
const check = (faults: string[], env: Record<string, string> = {}): string | undefined => {
  try {
    checkScenarioTarget(scenarioFromFlags({ faults }), config(env));
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).shortMessage;
  }
};

describe('checkScenarioTarget', () => {
  it('lets every boundary and process fault run on the local stack with its defaults', () => {
    expect(check(['rpc:latency=1ms', 'storage:reset', 'api:reset', 'personal_server:reset', 'rpc:chain_pause,until=1s', 'api:relayer_drain=3,until=1s', 'personal_server:personal_server_restart,until=1s'])).toBeUndefined();
  });

  it('error: names the scenario, the fault and why it cannot run', () => {
    expect(check(['rpc:chain_pause,until=1s'], REMOTE)).toBe(
      'Scenario flags (flags) cannot run here: rpc:chain_pause#0: chain_pause is a process fault of the local stack; a remote target refuses it (run it with --target local)',
    );
    expect(check(['api:relayer_drain=4,until=1s'])).toBe('Scenario flags (flags) cannot run here: api:relayer_drain#0: relayer 4 does not exist: the stack has 4 relayers (0-3)');
    expect(check(['api:relayer_drain,until=1s'], { VANA_RELAY: 'keys' })).toBe(
      "Scenario flags (flags) cannot run here: api:relayer_drain#0: relayer_drain drains the local stack's relayers, which only relay mode api uses (relay is keys)",
    );
    expect(check(['api:reset'], { VANA_RELAY: 'direct', VANA_INFERENCE: 'personal-server' })).toBe(
      'Scenario flags (flags) cannot run here: api:reset#0: the run does not cross boundary api: neither relay api nor inference proxy sends anything to the API server',
    );
    expect(check(['storage:reset'], { VANA_STACK_STORAGE: 's3' })).toMatch(/the run does not cross boundary storage: the stack stores files on its S3 server/);
    expect(check(['storage:reset'], { ...REMOTE, VANA_STORAGE_PROVIDER: 's3', VANA_S3_BUCKET: 'bucket', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' })).toBe(
      'Scenario flags (flags) cannot run here: storage:reset#0: the run does not cross boundary storage: the remote target has no storage endpoint in the config',
    );
  });
});

describe('remoteTargets and withProxiedEndpoints', () => {
  it('proxies every endpoint of the config, a separate relayer URL as a second api endpoint', () => {
    const remote = config({ ...REMOTE, VANA_RELAYER_URL: 'https://relayer.example/api/relay' });
    expect(remoteTargets(remote)).toEqual({
      rpc: ['https://rpc.example/v2/secret-key', 'https://rpc2.example'],
      api: ['https://app.example', 'https://relayer.example/api/relay'],
      storage: ['https://files.example'],
      personal_server: ['https://ps.example'],
    });
    const proxied = withProxiedEndpoints(remote, { rpc: ['http://p:1', 'http://p:2'], api: ['http://p:3', 'http://p:4'], personal_server: ['http://p:5'] });
    expect([proxied.chain.rpcUrls, proxied.services.apiUrl, proxied.relay.url, proxied.services.personalServerUrl, proxied.storage.url]).toEqual([
      ['http://p:1', 'http://p:2'],
      'http://p:3',
      'http://p:4',
      'http://p:5',
      'https://files.example',
    ]);
  });

  it('takes the relayer URL as the only api endpoint when there is no API URL', () => {
    const remote = config({ ...REMOTE, VANA_API_URL: '', VANA_RELAYER_URL: 'https://relayer.example/api/relay', VANA_INFERENCE: 'personal-server', VANA_APP_PRIVATE_KEY: `0x${'1'.repeat(64)}` });
    expect(remoteTargets(remote).api).toEqual(['https://relayer.example/api/relay']);
    expect(withProxiedEndpoints(remote, { api: ['http://p:9'] }).relay.url).toBe('http://p:9');
  });
});
