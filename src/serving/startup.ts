/**
 * @module serving/startup: begins onnxruntime's start when the isolate starts, imported by the
 * Worker's entry for this effect alone. Cloudflare runs a Worker's top level while the first
 * request's TLS handshake is under way, so work begun here is hidden from that request.
 *
 * workerd forbids compiling WebAssembly at startup but allows instantiating a compiled module,
 * which is all ORT's start does here (serving/loader). The heap cap must be known before ORT makes
 * its heap, so it is read from the environment here, as the serving settings read it.
 */
import { env } from "cloudflare:workers";
import { setWasmHeapMax, startRuntime } from "./loader";
import { servingSettings } from "./serving-state";

try {
  setWasmHeapMax(servingSettings(env).heapMaxBytes);
} catch {
  // A bad setting must not stop the Worker starting: every request is refused naming it (settings.ts).
}
void startRuntime();
