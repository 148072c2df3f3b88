// Static checks of the Docker deployment (docker-compose.yml, Dockerfile, .dockerignore, deploy/).
// No Docker engine is needed: each assertion guards something that would break `docker compose up`
// for a user, or silently run the stack insecurely.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { parseDocument } from 'yaml';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { WORKER_NODE_OPTIONS, WORKER_V8_FLAGS } from '../../src/workers/node-options';

const root = path.resolve(__dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

type Environment = Record<string, string> | string[];
type DependsOn = string[] | Record<string, { condition?: string }>;
interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Environment;
  ports?: (string | number | { target: number; published?: string | number; host_ip?: string })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  depends_on?: DependsOn;
  healthcheck?: Healthcheck;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = read('docker-compose.yml');
const composeDoc = parseDocument(composeText, { merge: true });
const compose = composeDoc.toJS({ maxAliasCount: 100 }) as ComposeFile;
const services = compose.services;

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

function env(name: string): Record<string, string> {
  const raw = service(name).environment ?? {};
  if (Array.isArray(raw)) {
    return Object.fromEntries(
      raw.map((entry) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, String(value)]));
}

function dependencies(name: string): Record<string, string> {
  const raw = service(name).depends_on ?? {};
  if (Array.isArray(raw)) return Object.fromEntries(raw.map((dep) => [dep, 'service_started']));
  return Object.fromEntries(
    Object.entries(raw).map(([dep, spec]) => [dep, spec.condition ?? 'service_started']),
  );
}

interface PortMapping {
  hostIp?: string;
  published: string;
  target: string;
}
function ports(name: string): PortMapping[] {
  return (service(name).ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return { hostIp: port.host_ip, published: String(port.published ?? ''), target: String(port.target) };
    }
    const parts = String(port).split(':');
    const target = parts.pop() ?? '';
    const published = parts.pop() ?? '';
    return { hostIp: parts.length > 0 ? parts.join(':') : undefined, published, target };
  });
}

interface BindMount {
  source: string;
  target: string;
}
function bindMounts(name: string): BindMount[] {
  const mounts: BindMount[] = [];
  for (const volume of service(name).volumes ?? []) {
    const spec =
      typeof volume === 'string'
        ? { source: volume.split(':')[0] ?? '', target: volume.split(':')[1] ?? '' }
        : { source: volume.source ?? '', target: volume.target };
    if (spec.source.startsWith('.') || spec.source.startsWith('/')) mounts.push(spec);
  }
  return mounts;
}

/** Host file behind a container path, through the service's bind mounts (undefined if not mounted). */
function hostPathOf(name: string, containerPath: string): string | undefined {
  for (const mount of bindMounts(name)) {
    if (containerPath === mount.target || containerPath.startsWith(`${mount.target}/`)) {
      return path.join(root, mount.source, path.relative(mount.target, containerPath));
    }
  }
  return undefined;
}

/** `${VAR...}` references in every value of the compose file (comments excluded). */
function composeVariables(): { name: string; operator: string; rest: string }[] {
  const strings: string[] = [];
  const collect = (node: unknown): void => {
    if (typeof node === 'string') strings.push(node);
    else if (Array.isArray(node)) node.forEach(collect);
    else if (node && typeof node === 'object') Object.values(node).forEach(collect);
  };
  collect(compose);
  return strings.flatMap((value) =>
    [...value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+]?)([^}]*)\}/g)].map((match) => ({
      name: match[1] ?? '',
      operator: match[2] ?? '',
      rest: match[3] ?? '',
    })),
  );
}

const appServices = ['migrate', 'sandbox', 'worker', 'api'] as const;
const infraServices = [
  'mysql',
  'temporal-schema',
  'temporal',
  'temporal-setup',
  'temporal-ui',
  'prometheus',
  'grafana',
] as const;
const secrets = [
  'MYSQL_ROOT_PASSWORD',
  'MYSQL_PASSWORD',
  'TEMPORAL_DB_PASSWORD',
  'DURAPAY_FIELD_KEYS',
  'DURAPAY_PAYLOAD_KEYS',
  'DURAPAY_API_KEYS',
  'GRAFANA_ADMIN_PASSWORD',
  'DURAPAY_GATEWAY_KEY',
];

describe('docker-compose.yml', () => {
  it('is valid YAML with the expected services', () => {
    expect(composeDoc.errors).toEqual([]);
    expect(Object.keys(services).sort()).toEqual([...appServices, ...infraServices].sort());
  });

  it('runs only official images, each pinned to an exact version', () => {
    const official =
      /^(mysql|temporalio\/(server|admin-tools|ui)|grafana\/grafana):(\d+\.\d+\.\d+)$|^prom\/prometheus:v\d+\.\d+\.\d+$/;
    for (const name of infraServices) {
      const image = service(name).image ?? '';
      expect({ name, image, ok: official.test(image) }).toEqual({ name, image, ok: true });
    }
    expect(service('mysql').image).toMatch(/^mysql:8\./);
    // Server and admin-tools (schema + CLI) must come from the same Temporal release.
    expect(service('temporal-schema').image).toBe(
      service('temporal').image?.replace('/server:', '/admin-tools:'),
    );
    expect(service('temporal-setup').image).toBe(service('temporal-schema').image);
    expect(composeText).not.toMatch(/:latest\b/);
  });

  it('depends only on services that exist and never on itself', () => {
    for (const name of Object.keys(services)) {
      for (const dep of Object.keys(dependencies(name))) {
        expect({ name, dep, exists: dep in services && dep !== name }).toEqual({ name, dep, exists: true });
      }
    }
  });

  it('waits on readiness: every service_healthy target has a healthcheck', () => {
    for (const name of Object.keys(services)) {
      for (const [dep, condition] of Object.entries(dependencies(name))) {
        if (condition !== 'service_healthy') continue;
        expect({ dep, healthcheck: Boolean(service(dep).healthcheck?.test) }).toEqual({
          dep,
          healthcheck: true,
        });
      }
    }
  });

  it('declares every named volume it mounts', () => {
    for (const [name, spec] of Object.entries(services)) {
      for (const volume of spec.volumes ?? []) {
        const source =
          typeof volume === 'string'
            ? volume.includes(':')
              ? (volume.split(':')[0] ?? '')
              : ''
            : volume.type === 'volume'
              ? (volume.source ?? '')
              : '';
        if (source === '' || source.startsWith('.') || source.startsWith('/')) continue;
        const declared = source in (compose.volumes ?? {});
        expect({ name, source, declared }).toEqual({ name, source, declared: true });
      }
    }
  });

  it('bind-mounts only files that exist in the repository', () => {
    // A missing bind source is silently created by Docker as an empty directory.
    for (const name of Object.keys(services)) {
      for (const mount of bindMounts(name)) {
        expect({ name, source: mount.source, exists: existsSync(path.join(root, mount.source)) }).toEqual({
          name,
          source: mount.source,
          exists: true,
        });
      }
    }
  });

  describe('mysql', () => {
    it('is persistent and reports health over TCP', () => {
      const mysql = service('mysql');
      expect(mysql.volumes).toContainEqual(expect.stringMatching(/^[a-z][\w-]*:\/var\/lib\/mysql$/));
      const test = [mysql.healthcheck?.test ?? []].flat().join(' ');
      expect(test).toContain('mysqladmin ping');
      // The first-run init server listens on the socket only; a socket ping passes too early.
      expect(test).toMatch(/--protocol=tcp/);
    });

    it('creates the app database and user that DATABASE_URL connects with', () => {
      const mysql = env('mysql');
      const url = /^mysql:\/\/([^:@/]+):(\$\{[^}]+\})@([^:/]+):(\d+)\/([\w-]+)$/.exec(
        env('api').DATABASE_URL ?? '',
      );
      expect(url).not.toBeNull();
      const [, user, password, host, port, database] = url ?? [];
      expect({ user, password, host, port, database }).toEqual({
        user: mysql.MYSQL_USER,
        password: mysql.MYSQL_PASSWORD,
        host: 'mysql',
        port: '3306',
        database: mysql.MYSQL_DATABASE,
      });
      expect(mysql.MYSQL_DATABASE).toBe('durapay');
    });

    it("creates Temporal's own user with the password Temporal connects with", () => {
      const initDir = hostPathOf('mysql', '/docker-entrypoint-initdb.d');
      expect(initDir).toBeDefined();
      const script = read(path.relative(root, path.join(initDir ?? '', '10-temporal-user.sh')));
      expect(script).toContain("'temporal'@'%'");
      expect(script).toContain('${TEMPORAL_DB_PASSWORD}');
      expect(env('mysql').TEMPORAL_DB_PASSWORD).toBe(env('temporal').MYSQL_PWD);
      expect(env('temporal').MYSQL_USER).toBe('temporal');
      expect(env('temporal-schema').SQL_USER).toBe('temporal');
      expect(env('temporal-schema').SQL_PASSWORD).toBe(env('temporal').MYSQL_PWD);
    });
  });

  describe('temporal', () => {
    it('persists to the MySQL service once it is healthy and its schema is set up', () => {
      const temporal = env('temporal');
      expect(temporal.DB).toBe('mysql8');
      expect(temporal.MYSQL_SEEDS).toBe('mysql');
      expect(temporal.DBNAME).toBe('temporal');
      expect(temporal.VISIBILITY_DBNAME).toBe('temporal_visibility');
      expect(dependencies('temporal')).toEqual({
        mysql: 'service_healthy',
        'temporal-schema': 'service_completed_successfully',
      });
      expect(dependencies('temporal-schema')).toEqual({ mysql: 'service_healthy' });
      expect(env('temporal-schema').SQL_PLUGIN).toBe('mysql8');
      expect(env('temporal-schema').SQL_HOST).toBe('mysql');
    });

    it('serves gRPC on 7233 to the other containers and the host', () => {
      expect(env('temporal').BIND_ON_IP).toBe('0.0.0.0');
      expect(ports('temporal')).toContainEqual(
        expect.objectContaining({ published: '7233', target: '7233' }),
      );
      expect([service('temporal').healthcheck?.test ?? []].flat().join(' ')).toContain('7233');
    });

    it('loads a dynamic config file that is mounted from deploy/', () => {
      const file = hostPathOf('temporal', env('temporal').DYNAMIC_CONFIG_FILE_PATH ?? '');
      expect(file).toBeDefined();
      expect(existsSync(file ?? '')).toBe(true);
    });

    it('runs one-shot scripts that exist in the mounted deploy/ folder', () => {
      for (const name of ['temporal-schema', 'temporal-setup']) {
        const args = [service(name).entrypoint ?? [], service(name).command ?? []].flat();
        const scripts = args.filter((arg) => arg.endsWith('.sh'));
        expect(scripts).toHaveLength(1);
        const file = hostPathOf(name, scripts[0] ?? '');
        expect({ name, file, exists: existsSync(file ?? '') }).toEqual({ name, file, exists: true });
      }
    });

    it('registers the custom search attributes once the server is healthy', () => {
      const setup = env('temporal-setup');
      expect(dependencies('temporal-setup')).toEqual({ temporal: 'service_healthy' });
      expect(setup.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(setup.TEMPORAL_NAMESPACE).toBe(env('api').TEMPORAL_NAMESPACE);
      const attributes = Object.fromEntries(
        (setup.SEARCH_ATTRIBUTES ?? '').split(',').map((pair) => pair.split('=') as [string, string]),
      );
      expect(attributes).toEqual({ OrderStatus: 'Keyword', CustomerId: 'Keyword', UploadId: 'Keyword' });
      // Same set as the workflows upsert (SDK `KEYWORD_LIST` is the CLI's `KeywordList`).
      const cliType = (type: string) => type.replace(/_/g, '').toLowerCase();
      expect(
        Object.fromEntries(Object.entries(attributes).map(([name, type]) => [name, cliType(type)])),
      ).toEqual(Object.fromEntries(CUSTOM_SEARCH_ATTRIBUTES.map((key) => [key.name, cliType(key.type)])));
      const script = read('deploy/temporal/setup-namespace.sh');
      expect(script).toContain('temporal operator search-attribute create');
      expect(script).toContain('SEARCH_ATTRIBUTES');
    });
  });

  describe('temporal-ui', () => {
    it('publishes host port 8233 to the UI server on 8080 and points at temporal:7233', () => {
      expect(ports('temporal-ui')).toContainEqual(
        expect.objectContaining({ published: '8233', target: '8080' }),
      );
      const ui = env('temporal-ui');
      expect(ui.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(dependencies('temporal-ui')).toEqual({ temporal: 'service_healthy' });
    });

    it("uses the API's codec endpoint and allows the UI's own browser origin", () => {
      const ui = env('temporal-ui');
      expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe('http://localhost:3000/codec');
      expect((ui.TEMPORAL_CORS_ORIGINS ?? '').split(',')).toContain('http://localhost:8233');
    });
  });

  describe('durapay services', () => {
    const commands: Record<(typeof appServices)[number], string[]> = {
      migrate: ['node', 'dist/src/db/migrate.js'],
      sandbox: ['node', 'dist/src/sandbox/main.js'],
      worker: ['node', ...WORKER_V8_FLAGS, 'dist/src/workers/main.js'],
      api: ['node', 'dist/src/api/main.js'],
    };

    it.each(appServices)('%s is built from this repository and runs its entry point', (name) => {
      const build = service(name).build;
      const context = typeof build === 'string' ? build : build?.context;
      expect(context).toBe('.');
      expect(typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile').toBe(
        'Dockerfile',
      );
      expect(service(name).command).toEqual(commands[name]);
    });

    it.each(appServices.filter((name) => name !== 'sandbox'))(
      '%s gets the production configuration',
      (name) => {
        const vars = env(name);
        expect(vars.NODE_ENV).toBe('production');
        expect(vars.TEMPORAL_ADDRESS).toBe('temporal:7233');
        expect(vars.TEMPORAL_NAMESPACE).toBe('default');
        expect(vars.DURAPAY_TASK_QUEUE).toBe('${DURAPAY_TASK_QUEUE:-durapay}');
        expect(vars.DATABASE_URL).toMatch(/^mysql:\/\//);
        expect(vars.DURAPAY_FIELD_KEYS).toMatch(/^\$\{DURAPAY_FIELD_KEYS:\?.+\}$/);
      },
    );

    it('runs the worker with the bounded heap every other start of it uses', () => {
      expect(env('worker').NODE_OPTIONS).toBe(WORKER_NODE_OPTIONS);
      expect(env('api').NODE_OPTIONS).toBeUndefined();
    });

    it('migrates once MySQL is healthy', () => {
      expect(dependencies('migrate')).toEqual({ mysql: 'service_healthy' });
    });

    it('api starts after Temporal is ready, set up and the migrations ran', () => {
      expect(dependencies('api')).toEqual({
        temporal: 'service_healthy',
        'temporal-setup': 'service_completed_successfully',
        migrate: 'service_completed_successfully',
      });
    });

    it('worker starts after that and once the sandbox provider listens', () => {
      expect(dependencies('worker')).toEqual({
        temporal: 'service_healthy',
        'temporal-setup': 'service_completed_successfully',
        migrate: 'service_completed_successfully',
        sandbox: 'service_healthy',
      });
    });

    it('worker charges the sandbox service unless a provider is named, with the key the sandbox requires', () => {
      expect(env('worker').DURAPAY_GATEWAY_URL).toBe('${DURAPAY_GATEWAY_URL:-http://sandbox:4010}');
      expect(env('sandbox').DURAPAY_SANDBOX_PORT).toBe('4010');
      expect(env('worker').DURAPAY_GATEWAY_KEY).toBe(env('sandbox').DURAPAY_SANDBOX_KEY);
      expect(env('sandbox').DURAPAY_SANDBOX_DATABASE_URL).toMatch(/@mysql:3306\/durapay_sandbox$/);
      expect(ports('sandbox')).toEqual([]);
    });

    it('mysql gives the app user the database of the sandbox, created once', () => {
      const script = readFileSync(path.join(root, 'deploy/mysql/initdb/20-sandbox-database.sh'), 'utf8');
      expect(script).toContain('CREATE DATABASE IF NOT EXISTS');
      expect(script).toContain('durapay\\\\_sandbox');
    });

    it('api publishes port 3000 and is health-checked on GET /health without curl', () => {
      expect(env('api').PORT).toBe('3000');
      expect(ports('api')).toContainEqual(expect.objectContaining({ published: '3000', target: '3000' }));
      const test = [service('api').healthcheck?.test ?? []].flat();
      expect(['CMD', 'CMD-SHELL']).toContain(test[0]);
      expect(test.join(' ')).toContain('/health');
      expect(test.join(' ')).toContain('fetch(');
      expect(test.join(' ')).not.toMatch(/\b(curl|wget)\b/);
    });
  });

  describe('metrics', () => {
    const yamlFile = (file: string) =>
      parseDocument(readFileSync(file, 'utf8')).toJS() as Record<string, any>;
    const mounted = (name: string, containerPath: string) => {
      const file = hostPathOf(name, containerPath);
      expect({ containerPath, exists: existsSync(file ?? '') }).toEqual({ containerPath, exists: true });
      return file ?? '';
    };

    it('prometheus scrapes the API and the worker on the metrics ports they are given', () => {
      const config = yamlFile(mounted('prometheus', '/etc/prometheus/prometheus.yml'));
      const targets = (config.scrape_configs as { static_configs: { targets: string[] }[] }[]).flatMap(
        (job) => job.static_configs.flatMap((each) => each.targets),
      );
      expect(targets.sort()).toEqual(
        [
          `api:${env('api').DURAPAY_API_METRICS_PORT}`,
          `worker:${env('worker').DURAPAY_WORKER_METRICS_PORT}`,
        ].sort(),
      );
      expect(Object.keys(dependencies('prometheus')).sort()).toEqual(['api', 'worker']);
    });

    it('keeps the metrics ports off the host, and Prometheus and Grafana on loopback', () => {
      const published = [...ports('api'), ...ports('worker')].map((port) => port.target);
      expect(published).not.toContain(env('api').DURAPAY_API_METRICS_PORT);
      expect(published).not.toContain(env('worker').DURAPAY_WORKER_METRICS_PORT);
      expect(ports('prometheus')).toEqual([{ hostIp: '127.0.0.1', published: '9090', target: '9090' }]);
      expect(ports('grafana')).toEqual([{ hostIp: '127.0.0.1', published: '3001', target: '3000' }]);
    });

    it('grafana is provisioned with the Prometheus datasource and the durapay dashboard', () => {
      const datasources = yamlFile(mounted('grafana', '/etc/grafana/provisioning/datasources/prometheus.yml'))
        .datasources as { uid: string; type: string; url: string }[];
      expect(datasources).toEqual([
        expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' }),
      ]);
      const provider = (
        yamlFile(mounted('grafana', '/etc/grafana/provisioning/dashboards/durapay.yml')).providers as {
          options: { path: string };
        }[]
      )[0];
      const dashboard = JSON.parse(
        readFileSync(mounted('grafana', `${provider?.options.path ?? ''}/durapay.json`), 'utf8'),
      ) as { panels: { datasource: { uid: string }; targets: { expr: string }[] }[] };
      expect(dashboard.panels.length).toBeGreaterThan(0);
      for (const panel of dashboard.panels) expect(panel.datasource.uid).toBe('prometheus');
    });

    it("the dashboard queries only metrics durapay's code defines", () => {
      const dashboard = read('deploy/grafana/dashboards/durapay.json');
      const sources = ['src/api/http/metrics.ts', 'src/workers/activity-observer.ts'].map(read).join('\n');
      const queried = new Set([...dashboard.matchAll(/\bdurapay_[a-z_]+/g)].map((match) => match[0]));
      expect(queried.size).toBeGreaterThan(5);
      for (const name of queried) {
        // Histograms add _bucket/_count/_sum; the worker's exporter adds _total to counters.
        const defined = name.replace(/_(bucket|count|sum)$/, '').replace(/_total$/, '');
        expect({ name, defined: sources.includes(`'${defined}'`) || sources.includes(`'${name}'`) }).toEqual({
          name,
          defined: true,
        });
      }
    });
  });

  describe('secrets', () => {
    it.each(secrets)('%s is required, never defaulted', (name) => {
      const references = composeVariables().filter((ref) => ref.name === name);
      expect(references.length).toBeGreaterThan(0);
      for (const ref of references) {
        expect(ref.operator).toBe(':?');
        expect(ref.rest.trim()).not.toBe('');
      }
    });

    it('passes each secret to the services that need it', () => {
      const required = (name: string) => new RegExp(`^\\$\\{${name}:\\?`);
      const mysql = env('mysql');
      expect(mysql.MYSQL_ROOT_PASSWORD).toMatch(required('MYSQL_ROOT_PASSWORD'));
      expect(mysql.MYSQL_PASSWORD).toMatch(required('MYSQL_PASSWORD'));
      expect(mysql.TEMPORAL_DB_PASSWORD).toMatch(required('TEMPORAL_DB_PASSWORD'));
      expect(env('temporal').MYSQL_PWD).toMatch(required('TEMPORAL_DB_PASSWORD'));
      // Only the API authenticates callers; the worker and migrations never see the API keys.
      expect(env('api').DURAPAY_API_KEYS).toMatch(required('DURAPAY_API_KEYS'));
      expect(env('worker').DURAPAY_API_KEYS).toBeUndefined();
      expect(env('migrate').DURAPAY_API_KEYS).toBeUndefined();
      // Worker and API encrypt and decrypt Temporal payloads with the same key ring.
      expect(env('worker').DURAPAY_PAYLOAD_KEYS).toMatch(required('DURAPAY_PAYLOAD_KEYS'));
      expect(env('api').DURAPAY_PAYLOAD_KEYS).toMatch(required('DURAPAY_PAYLOAD_KEYS'));
    });

    it('documents every variable the compose file reads in .env.example', () => {
      const documented = new Set(
        read('.env.example')
          .split('\n')
          .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
          .filter((name): name is string => name !== undefined),
      );
      for (const { name } of composeVariables()) expect(documented).toContain(name);
    });

    it('ships .env.example without secret values', () => {
      const lines = read('.env.example').split('\n');
      for (const name of secrets) expect(lines).toContain(`${name}=`);
    });
  });
});

// --- Dockerfile ------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, image = '', name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
      stages.push({
        image: image.replace(/\$\{(\w+)\}/g, (_, arg: string) => args[arg] ?? ''),
        name,
        instructions: [],
      });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      args[name] = value;
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args: rest });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const stageNamed = (name: string) => dockerfile.stages.find((stage) => stage.name === name);
const runs = (stage: Stage | undefined) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === 'RUN').map((i) => i.args);
const workdir = (stage: Stage | undefined) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === 'WORKDIR').at(-1)?.args ?? '/';
/** COPY instructions as { from, sources, dest }, flags like --chown dropped. */
const copies = (stage: Stage | undefined) =>
  (stage?.instructions ?? [])
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((word) => !word.startsWith('--'));
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
    });

interface TsConfig {
  extends?: string;
  include?: string[];
  compilerOptions?: { outDir?: string; rootDir?: string };
}
function tsconfig(file: string): Required<Pick<TsConfig, 'include'>> & { outDir: string; rootDir: string } {
  const parsed = ts.parseConfigFileTextToJson(file, read(file));
  if (parsed.error)
    throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(parsed.error.messageText, ' ')}`);
  const own = parsed.config as TsConfig;
  const base = own.extends
    ? tsconfig(path.join(path.dirname(file), own.extends))
    : { include: [], outDir: '', rootDir: '' };
  return {
    include: own.include ?? base.include,
    outDir: own.compilerOptions?.outDir ?? base.outDir,
    rootDir: own.compilerOptions?.rootDir ?? base.rootDir,
  };
}

describe('Dockerfile', () => {
  const runtime = dockerfile.stages.at(-1);
  const build = dockerfile.stages.find((stage) => runs(stage).some((cmd) => /\bnpm run build\b/.test(cmd)));

  it('builds on pinned Node 20 with glibc (Temporal core-bridge has no musl binary)', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) {
      if (stageNamed(stage.image)) continue;
      expect(stage.image).toMatch(/^node:20\.\d+\.\d+-(bookworm|bullseye|trixie)(-slim)?$/);
    }
  });

  it('installs the locked dependencies, then builds, in a separate build stage', () => {
    expect(build).toBeDefined();
    expect(build).not.toBe(runtime);
    const commands = runs(build);
    const install = commands.findIndex((cmd) => /\bnpm install\b/.test(cmd) && !/--omit=dev/.test(cmd));
    const compile = commands.findIndex((cmd) => /\bnpm run build\b/.test(cmd));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(install).toBeLessThan(compile);
  });

  it('copies everything tsconfig.build.json compiles into the build stage', () => {
    const copied = copies(build).flatMap((copy) => (copy.from ? [] : copy.sources));
    const { include } = tsconfig('tsconfig.build.json');
    for (const entry of [...include, 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) {
      expect(copied).toContain(entry);
    }
  });

  it('runs with production dependencies only', () => {
    expect(runs(runtime).filter((cmd) => /\bnpm (ci|install|i)\b/.test(cmd))).toEqual([]);
    const nodeModules = copies(runtime).find((copy) =>
      copy.sources.some((src) => src.endsWith('node_modules')),
    );
    const depsStage = stageNamed(nodeModules?.from ?? '');
    expect(depsStage).toBeDefined();
    expect(depsStage).not.toBe(build);
    expect(runs(depsStage)).toContainEqual(expect.stringMatching(/\bnpm install\b.*--omit=dev/));
  });

  it('runs as a non-root user', () => {
    const user = (runtime?.instructions ?? []).filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user?.split(':')[0]).not.toMatch(/^(root|0)$/);
  });

  it('places the compiled output where the compose commands look for it', () => {
    // tsconfig.build.json: rootDir `.`, outDir `dist` => src/api/main.ts compiles to dist/src/api/main.js.
    const { include, outDir, rootDir } = tsconfig('tsconfig.build.json');
    const distCopy = copies(runtime).find((copy) => copy.from === build?.name);
    expect(distCopy?.sources).toEqual([path.posix.join(workdir(build), outDir)]);
    const runtimeDist = path.posix.resolve(workdir(runtime), distCopy?.dest ?? '');
    for (const name of appServices) {
      // The entry point ends the command, after any node flags.
      const script = [service(name).command ?? []].flat().at(-1) ?? '';
      const compiled = path.posix.resolve(workdir(runtime), script);
      expect(compiled.startsWith(`${runtimeDist}/`)).toBe(true);
      const source = path.posix
        .join(rootDir, path.posix.relative(runtimeDist, compiled))
        .replace(/\.js$/, '.ts');
      expect({ name, source, compiled: include.some((dir) => source.startsWith(`${dir}/`)) }).toEqual({
        name,
        source,
        compiled: true,
      });
    }
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  // Enough of Docker's matching for plain names and * / ** / ? globs.
  const toRegExp = (pattern: string) => {
    const glob = (part: string) =>
      part
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]');
    const body = pattern
      .replace(/^\/+|\/+$/g, '')
      .split('**')
      .map(glob)
      .join('.*');
    return new RegExp(`^${body}(/.*)?$`);
  };
  const ignored = (file: string) =>
    patterns.reduce(
      (result, pattern) =>
        pattern.startsWith('!')
          ? toRegExp(pattern.slice(1)).test(file)
            ? false
            : result
          : toRegExp(pattern).test(file) || result,
      false,
    );

  it('keeps everything the Dockerfile copies from the build context', () => {
    for (const stage of dockerfile.stages) {
      for (const copy of copies(stage)) {
        if (copy.from) continue;
        for (const source of copy.sources)
          expect({ source, ignored: ignored(source) }).toEqual({ source, ignored: false });
      }
    }
  });

  it('keeps secrets and host build artefacts out of the image', () => {
    for (const file of ['.env', '.env.local', 'node_modules', 'dist', '.git']) {
      expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: true });
    }
  });
});
