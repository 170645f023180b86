/** @module index: the Worker entry point. */
import { createApp } from "./app";

export { TenantLimiter } from "./ratelimit/limiter";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
