# paligemma serve in a container. Build:  docker build -t paligemma4j .
# Run (model directory mounted read-only at /model):
#   docker run --rm -p 8080:8080 -v ~/models/paligemma2-3b-mix-224:/model:ro -e PALIGEMMA_API_KEY=secret paligemma4j --quant q8
# Arguments after the image name are added to `paligemma serve --model /model --host 0.0.0.0`.

FROM maven:3-eclipse-temurin-25 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -ntp -DskipTests -Dmaven.test.skip.exec=true package -pl paligemma4j-cli -am

FROM eclipse-temurin:25-jdk
# The JDK image rather than a JRE: the Vector API is an incubator module that not every JRE image carries.
RUN useradd --system --create-home paligemma
COPY --from=build /src/paligemma4j-cli/target/paligemma4j-cli.jar /app/paligemma4j-cli.jar
COPY --from=build /src/paligemma4j-cli/target/lib /app/lib
USER paligemma
EXPOSE 8080
# Inside a container the server must listen on all interfaces to be reachable through the published port;
# set PALIGEMMA_API_KEY (or pass --api-key) when the port is reachable by others.
ENTRYPOINT ["java", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", \
  "-XX:+UseParallelGC", "-Xmn256m", "-XX:SurvivorRatio=1", "-XX:-UseAdaptiveSizePolicy", "-XX:MaxRAMPercentage=80", \
  "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0", \
  "-cp", "/app/paligemma4j-cli.jar:/app/lib/*", "org.paligemma4j.cli.Main", \
  "serve", "--model", "/model", "--host", "0.0.0.0", "--port", "8080"]
