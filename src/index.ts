/** @module index: the Worker entry point. */
import { createApp } from "./app";

export { ModelStats } from "./monitoring/model-stats";
export { TenantLimiter } from "./ratelimit/limiter";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
