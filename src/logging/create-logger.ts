import pino, { type DestinationStream, type Logger } from 'pino'
import type { Config } from '../config/load-config.ts'

// Anything shaped like a JWT, wherever it ends up in a line (an error message, a header dump).
const JWT_PATTERN = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g
const REDACTED = '[REDACTED]'

/** The configured secrets that must never reach a log line. */
export function secretsOf (config: Config): string[] {
  const values = [config.upstream.apiKey, ...Object.values(config.upstream.apiKeys), config.jwt.secret]
  return values.filter((value): value is string => value !== null && value.length >= 4)
}

/**
 * A destination that scrubs known secrets and bearer tokens from every serialised line:
 * pino's `redact` covers the paths we know, this covers the ones we do not (error messages,
 * serialised upstream failures).
 */
export function redactingStream (secrets: string[], destination: DestinationStream): DestinationStream {
  return {
    write (line: string) {
      let clean = line.replace(JWT_PATTERN, REDACTED)
      for (const secret of secrets) if (clean.includes(secret)) clean = clean.replaceAll(secret, REDACTED)
      destination.write(clean)
    }
  }
}

export function createLogger (config: Config, destination: DestinationStream = pino.destination(1)): Logger {
  return pino({
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie', '*.apiKey'],
      censor: REDACTED
    }
  }, redactingStream(secretsOf(config), destination))
}
