export { edgeforgeVersion as version } from "../core/edgeforge-version.js";
