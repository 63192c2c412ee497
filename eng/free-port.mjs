// Prints a TCP port that is free on 127.0.0.1 right now (the kernel picks it).
import net from "node:net";
const server = net.createServer();
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(String(server.address().port));
  server.close();
});
