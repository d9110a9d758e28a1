import type { FastifyReply, FastifyRequest } from 'fastify'
import { ProblemError } from './problem-error.ts'
import { PROBLEM_TYPES, problemTypeUri } from './problem-types.ts'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'

/** The RFC 9457 body of a problem. */
export function problemBody (problem: ProblemError, requestId: string) {
  const { errors, upstreamErrors } = problem.extras
  return {
    type: problemTypeUri(problem.code),
    title: PROBLEM_TYPES[problem.code].title,
    status: problem.statusCode,
    detail: problem.detail,
    requestId,
    ...(errors !== undefined && { errors }),
    ...(upstreamErrors !== undefined && { upstreamErrors })
  }
}

/** Status and headers of a problem answer, set before its body is sent (or stored for replay). */
export function prepareProblemReply (reply: FastifyReply, problem: ProblemError): FastifyReply {
  const { retryAfterSeconds, challenge } = problem.extras
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds))))
  if (challenge !== undefined) reply.header('www-authenticate', challenge)
  return reply.code(problem.statusCode).type(PROBLEM_CONTENT_TYPE)
}

export function sendProblem (reply: FastifyReply, request: FastifyRequest, problem: ProblemError): FastifyReply {
  return prepareProblemReply(reply, problem).send(problemBody(problem, request.id))
}

/** The not-found handler of every listener of the service. */
export async function sendNotFound (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return sendProblem(reply, request, new ProblemError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`))
}
