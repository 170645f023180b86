/**
 * The service with one more route, for `npm run bench:loop`: /__loop (loop-route.ts) repeats
 * a request inside the isolate, against the service, the bare Worker's handling of the same
 * session, or nothing (the floor). Every other request goes to the service unchanged.
 */
import service from "../../src/index";
import { loopRoute } from "./loop-route";

export { ModelStats, ModelWriter, TenantLimiter } from "../../src/index";

const loop = loopRoute({ service });

export default {
  fetch(request, env, ctx) {
    return new URL(request.url).pathname === "/__loop" ? loop(request, env, ctx) : service.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
