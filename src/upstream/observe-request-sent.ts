import type { Dispatcher } from 'undici'
import type { IncomingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'

/**
 * An undici interceptor that calls `onSent` once the whole request has been handed to the
 * socket (undici's `onRequestSent`), or a response has started. An error without that call
 * means the request never left: the platform cannot have acted on it, so it may be retried.
 */
export function observeRequestSent (onSent: () => void): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) => dispatch(options, new RequestSentObserver(handler, onSent))
}

/** Passes every callback through to the wrapped handler, noting the moment the request was sent. */
class RequestSentObserver implements Dispatcher.DispatchHandler {
  #handler: Dispatcher.DispatchHandler
  #onSent: () => void
  #sent = false

  constructor (handler: Dispatcher.DispatchHandler, onSent: () => void) {
    this.#handler = handler
    this.#onSent = onSent
  }

  #markSent (): void {
    if (this.#sent) return
    this.#sent = true
    this.#onSent()
  }

  onRequestStart (controller: Dispatcher.DispatchController, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context)
  }

  onRequestUpgrade (controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#markSent()
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket)
  }

  onBodySent (chunk: Buffer): void {
    this.#handler.onBodySent?.(chunk)
  }

  onRequestSent (): void {
    this.#markSent()
    this.#handler.onRequestSent?.()
  }

  onResponseStarted (): void {
    this.#markSent()
    this.#handler.onResponseStarted?.()
  }

  onResponseStart (controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    this.#markSent()
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
  }

  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd (controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#handler.onResponseEnd?.(controller, trailers)
  }

  onResponseError (controller: Dispatcher.DispatchController, error: Error): void {
    this.#handler.onResponseError?.(controller, error)
  }
}
