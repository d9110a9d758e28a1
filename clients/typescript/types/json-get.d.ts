/** @import { paths } from '../types/openapi.js' */
/** @import { Client, ClientPathsWithMethod } from 'openapi-fetch' */
/** @import { RequestOptions } from './index.js' */
/** @typedef {ClientPathsWithMethod<Client<paths>, 'get'>} GetPath the service's URLs that answer a GET */
/**
 * @template O
 * @typedef {O extends { responses: { 200: { content: { 'application/json': infer Data } } } } ? Data : never} JsonOf the JSON of an operation's 200 answer
 */
/**
 * @typedef {<P extends GetPath>(path: P, params: paths[P]['get']['parameters'], options: RequestOptions) => Promise<JsonOf<paths[P]['get']>>} JsonGet
 */
/**
 * The data of a successful answer, or the answer's problem thrown.
 * @template T
 * @param {Promise<{ data?: T, error?: unknown, response: Response }>} call
 * @returns {Promise<T>}
 */
export function dataOf<T>(call: Promise<{
    data?: T;
    error?: unknown;
    response: Response;
}>): Promise<T>;
/**
 * The one GET of the client's read calls: the current token, the JSON answer's data or its
 * problem thrown. A call names its path and the parameters openapi.yaml gives that path, so a
 * new query parameter of the service is one more key of `params`.
 * @param {Client<paths>} api
 * @param {() => Promise<string>} authorization the Authorization header's value, read per call
 * @returns {JsonGet}
 */
export function jsonGetter(api: Client<paths>, authorization: () => Promise<string>): JsonGet;
/**
 * the service's URLs that answer a GET
 */
export type GetPath = ClientPathsWithMethod<Client<paths>, "get">;
/**
 * the JSON of an operation's 200 answer
 */
export type JsonOf<O> = O extends {
    responses: {
        200: {
            content: {
                "application/json": infer Data;
            };
        };
    };
} ? Data : never;
export type JsonGet = <P extends GetPath>(path: P, params: paths[P]["get"]["parameters"], options: RequestOptions) => Promise<JsonOf<paths[P]["get"]>>;
import type { paths } from '../types/openapi.js';
import type { Client } from 'openapi-fetch';
import type { ClientPathsWithMethod } from 'openapi-fetch';
import type { RequestOptions } from './index.js';
