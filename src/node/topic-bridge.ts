/**
 * Where pubsub/ meets node/: a server's topics prepare each publication as one PreparedMessage
 * (framed once, compressed once per window size) and hand it to each subscribed connection's
 * link, which applies its backpressure policy. Both `wss.publish` and `ws.publish` come here;
 * neither goes through the other.
 * Must not: keep state (pubsub/ owns membership, the link owns the connection).
 */
import type { Broker } from '../broker/broker.js';
import { PubSub, type PublishOptions, type PublishResult } from '../pubsub/pubsub.js';
import { asBuffer } from './bytes/convert-message.js';
import { syncBytes, type SendData } from './bytes/to-bytes.js';
import { channels } from './diagnostics.js';
import type { ResolvedDeflateOptions } from './options.js';
import type { HostedConnection, ServerTopics } from './internal.js';
import { PreparedMessage } from './prepared-message.js';

export function createServerTopics(
  broker: Broker | null,
  channelPrefix: string | undefined,
  deflate: ResolvedDeflateOptions,
  onBrokerError: (error: Error, topic: string) => void,
): ServerTopics {
  return new PubSub<HostedConnection, PreparedMessage>({
    broker,
    channelPrefix,
    prepare: (payload, binary, compress) => new PreparedMessage(asBuffer(payload), binary, compress, deflate),
    deliver: (connection, message, key) => connection.deliver(message, key),
    onBrokerError,
  });
}

/** Publishes user data on `topic`: strings as text, everything else as binary unless `binary` says otherwise. */
export function publishTo(
  topics: ServerTopics,
  topic: string,
  data: SendData,
  options: PublishOptions,
  except: HostedConnection | null,
  cb: ((error: Error | null) => void) | undefined,
): PublishResult {
  const { bytes } = syncBytes(data);
  const binary = options.binary ?? typeof data !== 'string';
  const result = topics.publish(topic, bytes, { binary, compress: options.compress, key: options.key }, except, cb);
  if (channels.topicPublish.hasSubscribers) channels.topicPublish.publish({ topic, bytes: bytes.length, delivered: result.sent + result.buffered, dropped: result.dropped });
  return result;
}
