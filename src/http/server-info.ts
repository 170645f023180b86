/** @module http/server-info: what the server says of itself. */
import pkg from "../../package.json";

export const SERVER_NAME = pkg.name;
export const SERVER_VERSION = pkg.version;
/** Response header naming the model version that answered a prediction. */
export const MODEL_VERSION_HEADER = "X-Model-Version";
