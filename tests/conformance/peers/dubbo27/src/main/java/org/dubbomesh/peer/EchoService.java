package org.dubbomesh.peer;

/** A plain Java interface exported over the dubbo protocol (opaque TCP to a mesh). */
public interface EchoService {
    String echo(String message);
}
