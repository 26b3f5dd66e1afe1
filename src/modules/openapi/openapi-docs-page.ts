import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const DOCS_PATH = '/admin/api/docs';
export const OPENAPI_PATH = '/admin/api/openapi.json';

// swagger-ui-dist comes with @nestjs/swagger; resolve it from there, not as a dependency of ours.
const swaggerUiDist = dirname(
  createRequire(require.resolve('@nestjs/swagger')).resolve('swagger-ui-dist/package.json'),
);

/**
 * The files the page loads, by the name it asks for. No inline script or style, so the admin
 * pages' Content-Security-Policy (scripts and styles from this origin only) holds here as well.
 */
export const DOCS_ASSETS: Readonly<
  Record<string, { file: string } | { text: string; type: string }>
> = {
  'swagger-ui.css': { file: join(swaggerUiDist, 'swagger-ui.css') },
  'swagger-ui-bundle.js': { file: join(swaggerUiDist, 'swagger-ui-bundle.js') },
  'favicon-32x32.png': { file: join(swaggerUiDist, 'favicon-32x32.png') },
  'docs.js': {
    type: 'text/javascript; charset=utf-8',
    // validatorUrl null: the page never sends the document to a third-party validator.
    text: `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '${OPENAPI_PATH}',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
  });
});
`,
  },
};

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Switchyard admin API</title>
    <link rel="icon" type="image/png" href="${DOCS_PATH}/assets/favicon-32x32.png" />
    <link rel="stylesheet" href="${DOCS_PATH}/assets/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_PATH}/assets/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATH}/assets/docs.js"></script>
  </body>
</html>
`;
