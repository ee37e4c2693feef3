/**
 * The public surface, pinned: every subpath of package.json "exports", the names each one
 * exports (values with their kind, then the names that exist only as types), and the own public
 * members of WebSocket and WebSocketServer. The lists are literal, so the surface changes only
 * by a reviewed diff of this file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = new URL('../../', import.meta.url);
const PACKAGE = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { exports: Record<string, unknown> };
const pathOf = (file: string): string => fileURLToPath(new URL(file, ROOT));

/** Each code subpath of "exports" and the source file it is built from (tsup.config.ts). */
const SOURCES: Record<string, string> = {
  '.': 'src/index.ts',
  './protocol': 'src/protocol/index.ts',
  './redis': 'src/broker/redis.ts',
  './realtime': 'src/realtime.ts',
  './client': 'src/client.ts',
  './metrics': 'src/metrics/index.ts',
};

const VALUES: Record<string, string[]> = {
  '.': [
    'BrokerError: class',
    'CloseCode: object',
    'CloseEvent: class',
    'ErrorEvent: class',
    'Event: class',
    'FullduplexError: class',
    'HandshakeError: class',
    'MemoryBroker: class',
    'MemoryHub: class',
    'MessageEvent: class',
    'ProtocolError: class',
    'ReadyState: object',
    'SERVER_DEFAULTS: object',
    'Server: class',
    'UsageError: class',
    'WebSocket: class',
    'WebSocketServer: class',
    'createWebSocketStream: function',
    'default: class',
  ],
  './protocol': [
    'BROKER_ERRORS: object',
    'BrokerError: class',
    'CloseCode: object',
    'Connection: class',
    'DEFAULT_MAX_FRAGMENTS: number',
    'DEFAULT_MAX_PAYLOAD: number',
    'DEFAULT_MAX_PENDING_PONGS: number',
    'FullduplexError: class',
    'HANDSHAKE_ERRORS: object',
    'HandshakeError: class',
    'MAX_CLOSE_REASON: number',
    'MAX_CONTROL_PAYLOAD: number',
    'Opcode: object',
    'PERMESSAGE_DEFLATE: string',
    'PROTOCOL_ERRORS: object',
    'ProtocolError: class',
    'ReadyState: object',
    'USAGE_ERRORS: object',
    'UsageError: class',
    'Utf8Validator: class',
    'WEBSOCKET_GUID: string',
    'acceptDeflateResponse: function',
    'acceptHeaders: function',
    'acceptValue: function',
    'applyMask: function',
    'base64Encode: function',
    'deflateOffer: function',
    'encodeFrame: function',
    'formatExtensions: function',
    'formatHead: function',
    'frameHeaderSize: function',
    'generateKey: function',
    'isToken: function',
    'isValidCloseCode: function',
    'isValidUtf8: function',
    'listHasToken: function',
    'maskInto: function',
    'negotiateDeflate: function',
    'parseExtensions: function',
    'parseTokenList: function',
    'rejectResponse: function',
    'requestHeaders: function',
    'selectSubprotocol: function',
    'sendFrameOptions: function',
    'sha1: function',
    'splitList: function',
    'validateRequest: function',
    'validateResponse: function',
    'writeFrameHeader: function',
  ],
  './redis': ['BrokerError: class', 'REDIS_ENGINE_DEFAULTS: object', 'RedisBroker: class', 'RedisEngine: class', 'RedisPresenceStore: class'],
  './realtime': [
    'BINARY_TYPES: object',
    'CLOSE_CODES: object',
    'ERROR_CODES: object',
    'MEMORY_ENGINE_DEFAULTS: object',
    'MemoryEngine: class',
    'MemoryPresenceStore: class',
    'MemorySessionStore: class',
    'PRESENCE_STORE_DEFAULTS: object',
    'REALTIME_DEFAULTS: object',
    'RealtimeConnection: class',
    'RealtimeError: class',
    'RealtimeServer: class',
    'SUBPROTOCOL: string',
    'SharedText: class',
    'channelProblem: function',
    'frameBinary: function',
    'mountRealtime: function',
    'parseBinary: function',
    'parseBinaryMessage: function',
    'parseMessage: function',
    'serialize: function',
    'shouldReconnect: function',
    'systemClock: object',
    'webSocketTransport: function',
  ],
  './client': [
    'RealtimeError: class',
    'SUBPROTOCOL: string',
    'createClient: function',
  ],
  './metrics': [
    'ADMIN_DEFAULTS: object',
    'ADMIN_ERRORS: object',
    'CHANNEL_NAMES: object',
    'METRICS_DEFAULTS: object',
    'MetricsCollector: class',
    'PROMETHEUS_CONTENT_TYPE: string',
    'createAdminHandler: function',
    'createMetricsHandler: function',
    'registerMetrics: function',
    'renderPrometheusText: function',
  ],
};

/** Names exported only as types (interfaces and type aliases). */
const TYPES: Record<string, string[]> = {
  '.': [
    'AddressInfo',
    'BackpressurePolicy',
    'BinaryType',
    'Broker',
    'BrokerMessageHandler',
    'BufferLike',
    'CertMeta',
    'ClientOptions',
    'ControlCallback',
    'Data',
    'EventListenerOptions',
    'FinishRequestCallback',
    'PerMessageDeflateOptions',
    'PublishOptions',
    'PublishResult',
    'RawData',
    'SendData',
    'SendOptions',
    'SendResult',
    'ServerOptions',
    'VerifyClient',
    'VerifyClientCallback',
    'VerifyClientCallbackAsync',
    'VerifyClientCallbackSync',
    'VerifyClientInfo',
    'WebSocketEventListener',
    'WebSocketEventMap',
  ],
  './protocol': [
    'AcceptOptions',
    'AcceptedResponse',
    'BrokerErrorCode',
    'ClientRequestOptions',
    'ConnectionEvent',
    'ConnectionOptions',
    'ConnectionState',
    'DeflateConfig',
    'DeflateParams',
    'ExtensionOffer',
    'FrameFields',
    'FullduplexErrorCode',
    'HandshakeErrorCode',
    'HandshakeRequest',
    'HeaderValue',
    'MaskFunction',
    'MessageCodec',
    'ProtocolErrorCode',
    'SendFrameOptions',
    'ServerResponse',
    'Side',
    'UsageErrorCode',
    'ValidRequest',
  ],
  './redis': ['Broker', 'BrokerMessageHandler', 'RedisBrokerOptions', 'RedisConnection', 'RedisEngineOptions', 'RedisPresenceStoreOptions'],
  './realtime': [
    'ChannelAction',
    'ClientMessage',
    'Clock',
    'ConnectMessage',
    'ConnectResult',
    'ConnectionState',
    'DrainMessage',
    'Engine',
    'EnginePublication',
    'EnginePublishResult',
    'ErrorBody',
    'ErrorCode',
    'ErrorMessage',
    'EventData',
    'EventHandler',
    'EventMap',
    'EventMessage',
    'EventReply',
    'HistoryResult',
    'Id',
    'JoinMessage',
    'LeaveMessage',
    'LiveHandler',
    'MemoryEngineOptions',
    'MemoryPresenceStoreOptions',
    'Message',
    'MountOptions',
    'ParseResult',
    'PingMessage',
    'PongMessage',
    'Position',
    'PresenceChange',
    'PresenceChannelOptions',
    'PresenceEntry',
    'PresenceHandler',
    'PresenceMember',
    'PresenceMessage',
    'PresenceStore',
    'PubMessage',
    'PublicationBody',
    'PublishMessage',
    'PublishOptions',
    'PublishResult',
    'RealtimeGauges',
    'RealtimeLimits',
    'RealtimeObserver',
    'RealtimeServerOptions',
    'ReplyMessage',
    'ServerMessage',
    'SessionStore',
    'SetPresenceMessage',
    'StandardIssue',
    'StandardResult',
    'StandardSchemaV1',
    'SubscribeMessage',
    'SubscribeResult',
    'Transport',
    'UnsubscribeMessage',
  ],
  './client': [
    'ClientOptions',
    'ClientState',
    'EventMap',
    'Lifecycle',
    'Position',
    'PositionStorage',
    'PresenceEvents',
    'PresenceMember',
    'PresenceView',
    'PublicationInfo',
    'PublishResult',
    'RealtimeClient',
    'RequestOptions',
    'WebSocketConstructor',
    'WebSocketLike',
  ],
  './metrics': [
    'AdminErrorCode',
    'AdminOptions',
    'AdminRealtimeServer',
    'AdminSocket',
    'AdminWebSocketServer',
    'CollectRequest',
    'MetricFamily',
    'MetricType',
    'MetricsCollectorOptions',
    'MetricsSnapshot',
    'PromClientRegistry',
    'RealtimeGauges',
    'Sample',
    'ServerGauges',
    'TrafficTotals',
  ],
};

/** Own members beyond what the language gives every class (`constructor`; `length`, `name`, `prototype`). */
const MEMBERS = {
  WebSocket: {
    prototype: [
      'CLOSED: value',
      'CLOSING: value',
      'CONNECTING: value',
      'OPEN: value',
      '_redirects: get',
    '_req: get',
    '_socket: get',
      'addEventListener: method',
      'binaryType: get set',
      'bufferedAmount: get',
      'close: method',
      'cork: method',
      'droppedMessages: get',
      'extensions: get',
      'isPaused: get',
      'isSubscribed: method',
      'onclose: get set',
      'onerror: get set',
      'onmessage: get set',
      'onopen: get set',
      'pause: method',
      'ping: method',
      'pong: method',
      'protocol: get',
      'publish: method',
      'readyState: get',
      'removeEventListener: method',
      'resume: method',
      'send: method',
      'sendPrepared: method',
      'socket: get',
      'subscribe: method',
      'subscribeAsync: method',
      'terminate: method',
      'topics: get',
      'unsubscribe: method',
      'url: get',
      'wasClean: get',
    ],
    static: [
      'CLOSED: value',
      'CLOSING: value',
      'CONNECTING: value',
      'OPEN: value',
      'Server: class',
      'WebSocket: class',
      'WebSocketServer: class',
      'createWebSocketStream: method',
    ],
  },
  WebSocketServer: {
    prototype: [
      '_server: get',
      'address: method',
      'broadcast: method',
      'close: method',
      'handleStream: method',
      'handleUpgrade: method',
      'prepare: method',
      'publish: method',
      'publishAsync: method',
      'shouldHandle: method',
      'subscriberCount: method',
    ],
    static: [] as string[],
  },
};

function kindOf(value: unknown): string {
  if (typeof value === 'function') return /^class\b/.test(Function.prototype.toString.call(value)) ? 'class' : 'function';
  return value === null ? 'null' : typeof value;
}

/** "name: kind" for each own member of `target` but those in `skip`, sorted. */
function membersOf(target: object, skip: string[]): string[] {
  return Reflect.ownKeys(target)
    .filter((key) => !skip.includes(String(key)))
    .map((key) => {
      const d = Object.getOwnPropertyDescriptor(target, key)!;
      const kind = d.get || d.set ? [d.get && 'get', d.set && 'set'].filter(Boolean).join(' ') : kindOf(d.value) === 'class' ? 'class' : typeof d.value === 'function' ? 'method' : 'value';
      return `${String(key)}: ${kind}`;
    })
    .sort();
}

const sorted = (list: string[]): string[] => [...list].sort();

describe('the public surface', () => {
  it('exports exactly these subpaths from package.json', () => {
    assert.deepEqual(Object.keys(PACKAGE.exports).sort(), ['.', './client', './metrics', './package.json', './protocol', './realtime', './redis']);
    assert.deepEqual(Object.keys(SOURCES).sort(), Object.keys(PACKAGE.exports).filter((k) => k !== './package.json').sort());
  });

  for (const [subpath, file] of Object.entries(SOURCES)) {
    it(`exports exactly these values, each of this kind, from "${subpath}"`, async () => {
      const module = (await import(new URL(file, ROOT).href)) as Record<string, unknown>;
      const actual = Object.keys(module)
        .sort()
        .map((name) => `${name}: ${kindOf(module[name])}`);
      assert.deepEqual(actual, VALUES[subpath]);
      assert.deepEqual(VALUES[subpath], sorted(VALUES[subpath]!), 'the expected list is sorted');
    });
  }

  it('exports exactly these type-only names from each subpath', { timeout: 60_000 }, () => {
    const files = Object.values(SOURCES).map(pathOf);
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    });
    const checker = program.getTypeChecker();
    for (const [subpath, file] of Object.entries(SOURCES)) {
      const module = checker.getSymbolAtLocation(program.getSourceFile(pathOf(file))!)!;
      const typeOnly = checker
        .getExportsOfModule(module)
        .filter((s) => ((s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s).flags & ts.SymbolFlags.Value) === 0)
        .map((s) => s.name)
        .sort();
      assert.deepEqual(typeOnly, TYPES[subpath], `type-only exports of "${subpath}"`);
      assert.deepEqual(TYPES[subpath], sorted(TYPES[subpath]!), 'the expected list is sorted');
    }
  });

  for (const name of ['WebSocket', 'WebSocketServer'] as const) {
    it(`gives ${name} exactly these own public members, on its prototype and static`, async () => {
      const entry = (await import(new URL(SOURCES['.']!, ROOT).href)) as Record<string, { prototype: object }>;
      const cls = entry[name]!;
      assert.deepEqual(membersOf(cls.prototype, ['constructor']), MEMBERS[name].prototype);
      assert.deepEqual(membersOf(cls, ['length', 'name', 'prototype']), MEMBERS[name].static);
    });
  }
});
