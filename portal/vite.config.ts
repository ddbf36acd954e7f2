import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The build lands in the Python package (centrex/web/static/portal), shipped in the wheel and
// served by `centrex serve` at `/` (web/portal.py). Stable file names: the server sends
// `Cache-Control: no-cache`, and a rebuild changes few committed files.
export default defineConfig({
  plugins: [preact()],
  base: "/",
  build: {
    outDir: "../src/centrex/web/static/portal",
    emptyOutDir: true,
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      output: {
        entryFileNames: "assets/portal.js",
        chunkFileNames: "assets/[name].js",
        assetFileNames: "assets/portal[extname]",
      },
    },
  },
  server: { proxy: { "/api": "http://127.0.0.1:8080" } },
});
