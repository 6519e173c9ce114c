# riskpipe on Debian 12. A thin wrapper over scripts/setup.sh and make, which CI exercises
# (there is no Docker engine on the project's machines, so this file itself is not run there).
#   docker build -t riskpipe .
#   docker run --rm -p 8080:8080 -v riskpipe-ws:/srv/riskpipe/examples/lending-datamart/workspace riskpipe
FROM debian:12
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends make sudo ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/riskpipe
COPY . .
# setup.sh installs the Debian packages and the pinned DuckDB library; make builds build/riskpipe.
RUN make build && rm -rf /var/lib/apt/lists/*
ENV PATH=/srv/riskpipe/build:$PATH
EXPOSE 8080
WORKDIR /srv/riskpipe/examples/lending-datamart
# Listens on all interfaces inside the container; publish the port to the host as needed.
CMD ["riskpipe", "serve", "--host", "0.0.0.0", "--port", "8080"]
