import pino, { type DestinationStream, type Logger } from 'pino'
import type { Config } from '../config/load-config.ts'
import { REDACTED, type SecretScrubber } from '../security/secret-scrubber.ts'

/**
 * A destination that scrubs every serialised line: pino's `redact` covers the paths we know,
 * this covers the ones we do not (error messages, serialised upstream failures).
 */
export function redactingStream (scrubber: SecretScrubber, destination: DestinationStream): DestinationStream {
  return {
    write (line: string) {
      destination.write(scrubber.text(line))
    }
  }
}

export function createLogger (config: Config, scrubber: SecretScrubber, destination: DestinationStream = pino.destination(1)): Logger {
  return pino({
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie', '*.apiKey'],
      censor: REDACTED
    }
  }, redactingStream(scrubber, destination))
}
