import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  HandshakeError,
  acceptDeflateResponse,
  deflateOffer,
  negotiateDeflate,
  parseExtensions,
  type DeflateConfig,
} from '../../../src/protocol/index.js';

function offers(header: string) {
  const parsed = parseExtensions(header);
  assert.ok(parsed, `header parses: ${header}`);
  return parsed;
}

describe('permessage-deflate negotiation (RFC 7692)', () => {
  it('offers client_max_window_bits bare by default, and the configured limits', () => {
    assert.equal(deflateOffer({}), 'permessage-deflate; client_max_window_bits');
    assert.equal(
      deflateOffer({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 }),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
    );
  });

  // The matrix: client offer x server config -> server answer and agreed params.
  const matrix: Array<{ offer: string; config: DeflateConfig; answer: string | null; params?: Partial<Record<string, unknown>> }> = [
    { offer: 'permessage-deflate', config: {}, answer: 'permessage-deflate', params: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 } },
    { offer: 'permessage-deflate; client_max_window_bits', config: {}, answer: 'permessage-deflate' },
    { offer: 'permessage-deflate; server_no_context_takeover', config: {}, answer: 'permessage-deflate; server_no_context_takeover', params: { serverNoContextTakeover: true } },
    { offer: 'permessage-deflate; client_no_context_takeover', config: {}, answer: 'permessage-deflate; client_no_context_takeover', params: { clientNoContextTakeover: true } },
    { offer: 'permessage-deflate', config: { serverNoContextTakeover: true }, answer: 'permessage-deflate; server_no_context_takeover' },
    { offer: 'permessage-deflate', config: { clientNoContextTakeover: true }, answer: 'permessage-deflate; client_no_context_takeover' },
    { offer: 'permessage-deflate; server_max_window_bits=10', config: {}, answer: 'permessage-deflate; server_max_window_bits=10', params: { serverMaxWindowBits: 10 } },
    { offer: 'permessage-deflate; server_max_window_bits=12', config: { serverMaxWindowBits: 10 }, answer: 'permessage-deflate; server_max_window_bits=10' },
    { offer: 'permessage-deflate; server_max_window_bits=9', config: { serverMaxWindowBits: 12 }, answer: 'permessage-deflate; server_max_window_bits=9' },
    { offer: 'permessage-deflate', config: { serverMaxWindowBits: 11 }, answer: 'permessage-deflate; server_max_window_bits=11' },
    { offer: 'permessage-deflate; client_max_window_bits=11', config: {}, answer: 'permessage-deflate; client_max_window_bits=11', params: { clientMaxWindowBits: 11 } },
    { offer: 'permessage-deflate; client_max_window_bits', config: { clientMaxWindowBits: 10 }, answer: 'permessage-deflate; client_max_window_bits=10', params: { clientMaxWindowBits: 10 } },
    // The server may only limit the client's window if the client offered the parameter.
    { offer: 'permessage-deflate', config: { clientMaxWindowBits: 10 }, answer: null },
    // Malformed offers are declined (RFC 7692 §5.1).
    { offer: 'permessage-deflate; server_max_window_bits=16', config: {}, answer: null },
    { offer: 'permessage-deflate; server_max_window_bits=7', config: {}, answer: null },
    { offer: 'permessage-deflate; server_max_window_bits=010', config: {}, answer: null },
    { offer: 'permessage-deflate; server_max_window_bits', config: {}, answer: null },
    { offer: 'permessage-deflate; server_no_context_takeover=1', config: {}, answer: null },
    { offer: 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', config: {}, answer: null },
    { offer: 'permessage-deflate; unknown_param', config: {}, answer: null },
    { offer: 'x-webkit-deflate-frame', config: {}, answer: null },
    // Several offers: the first acceptable one wins.
    { offer: 'permessage-deflate; server_max_window_bits=99, permessage-deflate; client_no_context_takeover', config: {}, answer: 'permessage-deflate; client_no_context_takeover' },
    { offer: 'foo, permessage-deflate; server_max_window_bits=13, permessage-deflate', config: {}, answer: 'permessage-deflate; server_max_window_bits=13' },
    { offer: 'permessage-deflate; server_max_window_bits="12"', config: {}, answer: 'permessage-deflate; server_max_window_bits=12' },
  ];
  for (const row of matrix) {
    it(`answers "${row.offer}" with ${JSON.stringify(row.config)} as ${row.answer ?? 'a decline'}`, () => {
      const result = negotiateDeflate(offers(row.offer), row.config);
      if (row.answer === null) {
        assert.equal(result, null);
        return;
      }
      assert.ok(result);
      assert.equal(result.response, row.answer);
      for (const [k, v] of Object.entries(row.params ?? {})) {
        assert.equal((result.params as unknown as Record<string, unknown>)[k], v, k);
      }
    });
  }

  it('lets the client accept every answer the server side produces for its own offer', () => {
    const configs: DeflateConfig[] = [{}, { serverNoContextTakeover: true }, { clientMaxWindowBits: 10 }, { serverMaxWindowBits: 9, clientNoContextTakeover: true }];
    for (const client of configs) {
      for (const server of configs) {
        const answer = negotiateDeflate(offers(deflateOffer(client)), server);
        if (answer === null) continue;
        const accepted = acceptDeflateResponse(offers(answer.response), client);
        assert.ok(!(accepted instanceof HandshakeError), `${JSON.stringify(client)} x ${JSON.stringify(server)}`);
        assert.deepEqual(accepted, answer.params);
      }
    }
  });

  for (const [answer, config, why] of [
    ['permessage-deflate; foo', {}, 'unknown parameter'],
    ['permessage-deflate; client_max_window_bits', {}, 'bare client_max_window_bits in an answer'],
    ['permessage-deflate; server_max_window_bits=8; server_max_window_bits=8', {}, 'duplicate parameter'],
    ['permessage-deflate, permessage-deflate', {}, 'two elements'],
    ['permessage-deflate', { serverNoContextTakeover: true }, 'server_no_context_takeover dropped'],
    ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 }, 'server window above the offer'],
    ['permessage-deflate', { serverMaxWindowBits: 10 }, 'server window limit ignored'],
    ['permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 }, 'client window above the offer'],
  ] as const) {
    it(`fails the client handshake on an answer with ${why}`, () => {
      const result = acceptDeflateResponse(offers(answer), config);
      assert.ok(result instanceof HandshakeError);
      assert.equal(result.code, 'WS_ERR_SERVER_EXTENSIONS');
    });
  }
});
