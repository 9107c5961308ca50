# The zsc server in a container: the runtime with the serve extra and the embedded model, run as a
# non-root user, listening on all interfaces.
#   docker build -t zsc .
#   docker run -p 8080:8080 -v "$PWD/tokens.txt:/run/secrets/tokens.txt:ro" zsc --token-file /run/secrets/tokens.txt
# Arguments after the image name are added to `zsc serve` (a token file, --model, limits).
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY export ./export
RUN pip install --no-cache-dir '.[cpu,serve]' && rm -rf /src

RUN useradd --create-home --uid 10001 zsc
USER zsc
WORKDIR /home/zsc
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health')"
ENTRYPOINT ["zsc", "serve", "--host", "0.0.0.0", "--port", "8080"]
